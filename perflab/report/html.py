"""One self-contained HTML page (pure: an aggregation in, a string out).

Everything is inline: CSS, the table's data as JSON, a small script that pages,
sorts and filters the table in the browser (10,000 rows stay one page of 50 at
a time), and the plots as SVG. Nothing is fetched, so the file opens offline.

Used by ``perflab report --format html``, ``results show RUN --format html``,
``results export RUN --format html`` and ``compare A B --format html``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from perflab import __version__
from perflab.report import plots

if TYPE_CHECKING:
    from perflab.compare.aggregate import Aggregate, Row
    from perflab.compare.engine import Outcome

MAX_PLOTS = 6  # benchmarks drawn (a distribution and a history each); the table has the rest
_RANK = {
    "regressed": 0,
    "improved": 1,
    "waived": 2,
    "not_comparable": 3,
    "unknown": 4,
    "same": 5,
    "no baseline": 6,
}

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em}td,th{padding:.2em .6em;border-bottom:1px solid
#eee;text-align:left;vertical-align:top}th{background:#f4f4f4;cursor:pointer}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.regressed{color:#b00020;font-weight:600}.improved{color:#087f23;font-weight:600}
.unknown{color:#a66b00}.plots{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;border:1px solid #eee;padding:.4em}figure svg{max-width:100%;height:auto}
#pager{margin:.5em 0}#pager button{margin:0 .3em}input#filter{width:22em}
details{margin:.3em 0}pre{background:#f8f8f8;padding:.5em;overflow:auto;font-size:.8em}
"""

SCRIPT = r"""
(function(){
const data=JSON.parse(document.getElementById('perflab-data').textContent);
const plats=data.platforms, rows=data.rows, per=50;
let page=0, shown=rows, sortKey=null, sortDir=1;
const fmt=(v,u)=>{if(v===null||v===undefined)return '-';const a=Math.abs(v);
 if(u==='ns'||u==='us'||u==='ms'||u==='s'){const s={ns:1e-9,us:1e-6,ms:1e-3,s:1}[u]*v;
  const z=Math.abs(s);if(z>=1)return s.toPrecision(4)+' s';
  if(z>=1e-3)return (s*1e3).toPrecision(4)+' ms';
  if(z>=1e-6)return (s*1e6).toPrecision(4)+' µs';return (s*1e9).toPrecision(4)+' ns';}
 return (a>=1e4||a<1e-3&&a>0?v.toExponential(3):v.toPrecision(4))+(u?' '+u:'');};
const pct=v=>v===null||v===undefined?'-':(v>=0?'+':'')+(v*100).toFixed(1)+'%';
const ratio=v=>v===null||v===undefined?'-':v.toFixed(3)+'×';
function cell(r,p){const c=r.c[p];if(!c)return '<td>-</td>';
 let t=fmt(c[0],r.u)+' <small>['+fmt(c[1],r.u)+', '+fmt(c[2],r.u)+']</small>';
 if(c[6]!=='no baseline')t+='<br>'+pct(c[3])+' <small>['+pct(c[4])+', '+pct(c[5])+']</small> '
  +'<span class="'+c[6]+'">'+c[6]+'</span>';
 if(c[7]!==null&&p!==data.reference)t+='<br><small>vs '+data.reference+': '+ratio(c[7])
  +(c[8]!==null?' raw, '+ratio(c[8])+' normalised':' raw')+'</small>';
 return '<td class="n">'+t+'</td>';}
const esc=s=>s.replace(/[&<>"]/g,ch=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[ch]));
function draw(){const body=document.querySelector('#bench-table tbody');
 const part=shown.slice(page*per,(page+1)*per);
 body.innerHTML=part.map(r=>'<tr><td>'+esc(r.b)+'</td><td>'+esc(r.m)+'</td>'
  +plats.map(p=>cell(r,p)).join('')+'<td>'+esc(r.k)+'</td></tr>').join('');
 const pages=Math.max(1,Math.ceil(shown.length/per));
 document.getElementById('page-info').textContent='page '+(page+1)+' of '+pages+', '
  +shown.length+' of '+rows.length+' rows';}
function filter(){const q=document.getElementById('filter').value.toLowerCase();
 const only=document.getElementById('changed').checked;
 shown=rows.filter(r=>(!q||(r.b+' '+r.m+' '+r.k).toLowerCase().includes(q))
  &&(!only||r.x));page=0;draw();}
document.getElementById('filter').addEventListener('input',filter);
document.getElementById('changed').addEventListener('change',filter);
document.getElementById('prev').addEventListener('click',()=>{if(page>0){page--;draw();}});
document.getElementById('next').addEventListener('click',()=>{
 if((page+1)*per<shown.length){page++;draw();}});
document.querySelectorAll('#bench-table th[data-key]').forEach(th=>th.addEventListener('click',
 ()=>{const k=th.dataset.key;sortDir=sortKey===k?-sortDir:1;sortKey=k;
  const val=r=>k==='b'?r.b:k==='k'?r.k:(r.c[k]?(r.c[k][3]??r.c[k][0]):null);
  shown=shown.slice().sort((a,b)=>{const x=val(a),y=val(b);if(x===y)return 0;
   if(x===null)return 1;if(y===null)return -1;return (x<y?-1:1)*sortDir;});page=0;draw();}));
draw();document.body.dataset.ready='1';
})();
"""


def _num(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _table_data(agg: Aggregate) -> dict[str, Any]:
    platforms = [p["platform"] for p in agg.platforms]
    rows = []
    for row in agg.rows:
        cells = {}
        for platform, c in row.cells.items():
            ratio = row.ratios.get(platform) or {}
            lo, hi = c.change_ci or (None, None)
            cells[platform] = [_num(x) for x in (c.median, c.ci[0], c.ci[1], c.change, lo, hi)] + [
                c.verdict,
                _num(ratio.get("raw")),
                _num(ratio.get("normalised")),
            ]
        changed = any(v in ("regressed", "improved") for v in row.verdicts)
        rows.append(
            {
                "b": row.benchmark,
                "m": row.metric,
                "u": row.unit,
                "k": row.consistency,
                "c": cells,
                "x": changed,
            }
        )
    rows.sort(key=lambda r: (not r["x"], r["b"], r["m"]))
    return {"platforms": platforms, "reference": agg.reference, "rows": rows}


def _json_script(data: Any) -> str:
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def plotted(agg: Aggregate) -> list[Row]:
    """The benchmarks worth a plot: changed ones first, then the largest changes or
    cross-platform differences."""

    def key(row: Row) -> tuple[int, float]:
        rank = min((_RANK.get(v, 7) for v in row.verdicts), default=7)
        size = max((abs(c.change or 0.0) for c in row.cells.values()), default=0.0)
        raws = [r.get("raw") or 0.0 for r in row.ratios.values()]
        spread = max((abs(math.log(x)) for x in raws if x > 0), default=0.0)
        return rank, -(size or spread)

    return sorted(agg.rows, key=key)[:MAX_PLOTS]


def _platform_table(agg: Aggregate) -> str:
    head = (
        "<tr><th>platform</th><th>run</th><th>runner</th><th>baseline</th>"
        "<th>calibration (ns/iter)</th><th>geomean change</th>"
        f"<th>geomean ratio vs {html.escape(agg.reference)} (raw / normalised)</th></tr>"
    )
    body = []
    for p in agg.platforms:
        geo = agg.geomean.get(p["platform"], {})
        change = (
            "; ".join(
                f"{m}: {_pct(g.get('change'))} {g.get('verdict', '')}"
                for m, g in geo.items()
                if "change" in g
            )
            or "-"
        )
        ratio = (
            "; ".join(
                f"{m}: {_ratio(g.get('ratio_raw'))} / {_ratio(g.get('ratio_normalised'))}"
                for m, g in geo.items()
                if "ratio_raw" in g
            )
            or "-"
        )
        cal = p.get("calibration_ns")
        body.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(x))}</td>"
                for x in (
                    p["platform"],
                    p.get("run_id") or "-",
                    p.get("runner") or "-",
                    p.get("baseline") or "none",
                    f"{cal:.4g}" if cal else "not measured",
                    change,
                    ratio,
                )
            )
            + "</tr>"
        )
    return f'<table id="platform-table">{head}{"".join(body)}</table>'


def _sweep_table(agg: Aggregate) -> str:
    """``report SWEEP_RUN``: every part of the sweep run, the ones that failed or were
    skipped with the reason."""
    if not agg.sweep:
        return ""
    from perflab.report.aggregate import sweep_parts

    s = agg.sweep
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in part) + "</tr>"
        for part in sweep_parts(s)
    )
    return (
        f"<h2>Sweep</h2><p>Sweep <b>{html.escape(str(s['sweep']))}</b>, run "
        f"<code>{html.escape(str(s['sweep_run_id']))}</code>: "
        f"{html.escape(str(s['outcome']))}; baseline policy "
        f"{html.escape(str(s.get('baseline_policy') or 'current'))}.</p>"
        '<table id="sweep-table"><tr><th>part</th><th>state</th><th>what happened</th></tr>'
        f"{rows}</table>"
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}×"


def _evidence(agg: Aggregate) -> str:
    out = []
    for ev in agg.evidence:
        summary = (
            f"{html.escape(ev['platform'])}: run {html.escape(str(ev['run_id']))} on "
            f"{html.escape(str(ev['runner']))} ({html.escape(str(ev['status']))})"
        )
        parts = [
            f"<p>tuning fingerprint: <code>{html.escape(str(ev['fingerprint']))}</code>"
            f"; calibration: {ev['calibration_ns'] or 'not measured'}</p>"
        ]
        differ = agg.differences.get(ev["platform"])
        if differ:
            parts.append(
                "<p>measured unlike its baseline (compared anyway): "
                + html.escape("; ".join(differ))
                + "</p>"
            )
        probe = ev.get("noise_probe")
        parts.append(
            "<p>noise probe: "
            + (
                html.escape(ev["noise_probe_failure"])
                if ev.get("noise_probe_failure")
                else "passed or not run (a failure would be shown)"
            )
            + "</p>"
        )
        if probe:
            parts.append(f"<pre>{html.escape(json.dumps(probe, indent=1))}</pre>")
        parts.append(
            "<p>contamination: "
            + (
                html.escape(json.dumps(ev["contamination"]))
                if ev["contamination"]
                else "none recorded"
            )
            + "</p>"
        )
        flags = "".join(
            f"<li><code>{html.escape(str(f['code']))}</code> {html.escape(str(f['message']))}</li>"
            for f in ev["flags"]
        )
        parts.append(f"<ul>{flags}</ul>" if flags else "<p>no flags</p>")
        parts.append(
            "<pre>" + html.escape(json.dumps(ev["environment"], indent=1, default=str)) + "</pre>"
        )
        out.append(
            f'<details class="evidence"><summary>{summary}</summary>{"".join(parts)}</details>'
        )
    return "".join(out)


def _plots(agg: Aggregate, extra: Sequence[str]) -> str:
    figures = list(extra)
    rows = plotted(agg)
    for row in rows:
        groups = [
            (p, row.cells[p].samples)
            for p in (x["platform"] for x in agg.platforms)
            if p in row.cells
        ]
        figures.append(
            _figure(
                "distribution",
                plots.distribution(f"{row.benchmark} · {row.metric}", row.unit, groups),
            )
        )
    for row in rows:
        series = [(p, agg_history) for p, agg_history in _histories(agg, row) if agg_history]
        if series:
            figures.append(
                _figure(
                    "history",
                    plots.history(f"history: {row.benchmark} · {row.metric}", row.unit, series),
                )
            )
    return f'<div class="plots">{"".join(figures)}</div>'


def _histories(agg: Aggregate, row: Row) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        (p, agg.histories.get(p, {}).get((row.benchmark, row.metric), []))
        for p in (x["platform"] for x in agg.platforms)
    ]


def _figure(kind: str, svg: str) -> str:
    return f'<figure class="plot" data-plot="{kind}">{svg}</figure>'


def render(agg: Aggregate, *, title: str, extra_plots: Sequence[str] = (), intro: str = "") -> str:
    """The page: platforms, plots, the paged table, each run's evidence."""
    platforms = [p["platform"] for p in agg.platforms]
    counts = ", ".join(f"{n:,} {v}" for v, n in sorted(agg.counts().items()))
    heads = "".join(f'<th data-key="{html.escape(p)}">{html.escape(p)}</th>' for p in platforms)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>{intro}{len(agg.rows):,} benchmark × metric rows on {len(platforms)} platform(s); verdicts of
the benchmark × platform cells: {html.escape(counts) or "none"}. perflab {__version__}, {stamp}.</p>
<h2>Platforms</h2>{_platform_table(agg)}{_sweep_table(agg)}
<h2>Plots</h2>{_plots(agg, extra_plots)}
<h2>Benchmarks</h2>
<div id="controls">
<input id="filter" type="search" placeholder="filter: benchmark, metric, consistency">
<label><input id="changed" type="checkbox"> only regressed or improved</label></div>
<div id="pager"><button id="prev" type="button">◀ previous</button><span id="page-info"></span>
<button id="next" type="button">next ▶</button></div>
<table id="bench-table"><thead><tr><th data-key="b">benchmark</th><th>metric</th>{heads}
<th data-key="k">consistency</th></tr></thead><tbody></tbody></table>
<p><small>Each cell: median [95% CI of the median]; change against that platform's baseline
[CI] and verdict; ratio to the reference platform, raw and normalised by the runners'
calibration probes.</small></p>
<h2>Evidence</h2>{_evidence(agg)}
<script type="application/json" id="perflab-data">{_json_script(_table_data(agg))}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def aggregate_html(agg: Aggregate) -> str:
    title = f"perflab report: {', '.join(p['platform'] for p in agg.platforms)}"
    return render(agg, title=title)


def compare_html(outcome: Outcome) -> str:
    """``compare A B --format html``: the candidate as one platform, changes against A."""
    from perflab.compare.aggregate import from_outcome

    agg = from_outcome(outcome)
    moved = [
        r.change for r in outcome.report.rows if r.change is not None and math.isfinite(r.change)
    ]
    extra = (
        [_figure("changes", plots.changes(f"changes of {len(moved):,} benchmarks", moved))]
        if moved
        else []
    )
    return render(
        agg,
        title=f"perflab compare: {outcome.base.label} → {outcome.cand.label}",
        extra_plots=extra,
    )

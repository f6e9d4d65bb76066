"""Shell completion callbacks (click's ``shell_complete``): names from the store and more.

``_PERFLAB_COMPLETE=bash_source perflab`` (or ``zsh_source``, ``fish_source``)
prints the script; on every TAB press the shell runs perflab again, and these
callbacks add what click cannot know: runner, group and baseline names and
run ids from the store (:mod:`perflab.store.complete`: read-only, fast, and
quiet on any error), the built-in ``local`` runner, the shipped profiles, and
file names where a file is accepted too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    from click.shell_completion import CompletionItem

LOCAL = "local"


def _items(values: list[str], *, helps: dict[str, str] | None = None) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(v, help=(helps or {}).get(v)) for v in dict.fromkeys(values)]


def _file(incomplete: str) -> CompletionItem:
    """Ask the shell to complete file names as well (bash: only when nothing else matches)."""
    from click.shell_completion import CompletionItem

    return CompletionItem(incomplete, type="file")


def _given(ctx: click.Context, param: click.Parameter) -> set[str]:
    """Values already on the command line for a repeatable parameter (not offered again)."""
    value: Any = ctx.params.get(param.name or "")
    return {str(v) for v in value} if isinstance(value, list | tuple) else set()


def runners(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``local`` and the registered runners."""
    from perflab.store.complete import runner_names

    names = [LOCAL] if LOCAL.startswith(incomplete) else []
    taken = _given(ctx, param)
    return _items([n for n in [*names, *runner_names(incomplete)] if n not in taken])


def groups(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Groups of the registered runners."""
    from perflab.store.complete import group_names

    return _items(group_names(incomplete))


def baselines(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Names of the baselines in the store."""
    from perflab.store.complete import baseline_names

    return _items(baseline_names(incomplete))


def runs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Stored run ids, newest first, with their job and runner as the description."""
    from perflab.store.complete import run_ids

    found = run_ids(incomplete)
    return _items([i for i, _ in found], helps=dict(found))


def sides(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """What ``compare`` takes: baseline names, run ids, or result files."""
    return [_file(incomplete), *baselines(ctx, param, incomplete), *runs(ctx, param, incomplete)]


def profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The shipped profiles by name, or a playbook file."""
    from perflab.spec.playbook import available_profiles

    names = [p for p in available_profiles() if p.startswith(incomplete)]
    return [_file(incomplete), *_items(names)]


def files(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """File names (for arguments that are plain strings to click)."""
    return [_file(incomplete)]

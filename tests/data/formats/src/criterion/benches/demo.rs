use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use perflab_criterion_demo::sorted;

fn bench_sum(c: &mut Criterion) {
    c.bench_function("sum 1000", |b| b.iter(|| (0..black_box(1000u64)).sum::<u64>()));
}

fn bench_sort(c: &mut Criterion) {
    let mut group = c.benchmark_group("sort");
    for n in [64u32, 512] {
        let xs: Vec<u32> = (0..n).map(|i| (i * 7919) % n).collect();
        group.throughput(Throughput::Bytes(4 * u64::from(n)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &xs, |b, xs| {
            b.iter(|| sorted(black_box(xs)))
        });
    }
    group.finish();
}

fn bench_fill(c: &mut Criterion) {
    let mut group = c.benchmark_group("fill");
    group.throughput(Throughput::Elements(256));
    group.bench_with_input(BenchmarkId::new("vec", 256), &256usize, |b, &n| {
        b.iter(|| vec![7u8; black_box(n)])
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(50))
        .measurement_time(std::time::Duration::from_millis(200))
        .without_plots()
}

criterion_group!(name = benches; config = config(); targets = bench_sum, bench_sort, bench_fill);
criterion_main!(benches);

//! Diffing two sock_diag listings of the watched port (which TIME-WAIT
//! sockets ran out between them), as the kernel view does every listing:
//! 1,000 to 60,000 mini-sockets, 2 % of them gone and as many new, with the
//! linear diff ([`synack::os::diag::gone`]) beside the nested scan it
//! replaced (up to 10,000: it is quadratic) (criterion).
//!
//! `cargo bench --bench listing`

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use synack::os::diag::{MiniSocket, gone};

/// `n` TIME-WAIT sockets of clients on 127.0.0.X towards port 8001, from
/// client port `first` on.
fn listing(first: u32, n: u32) -> Vec<MiniSocket> {
    (first..first + n)
        .map(|i| MiniSocket {
            local: SocketAddr::from(([127, 0, 0, 1 + u8::try_from(i / 60_000).unwrap()], 1024 + (i % 60_000) as u16)),
            remote: SocketAddr::from(([127, 0, 0, 1], 8001)),
            state: 6,
            left: Duration::from_secs(60),
        })
        .collect()
}

/// The diff before the linear one: for each socket listed before, a scan of
/// the whole new listing.
fn nested<'a>(before: &'a [MiniSocket], now: &[MiniSocket]) -> Vec<&'a MiniSocket> {
    before.iter().filter(|old| !now.iter().any(|m| m.local == old.local && m.remote == old.remote)).collect()
}

fn diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("listing diff");
    for n in [1_000u32, 10_000, 60_000] {
        let churn = n / 50;
        let before = listing(0, n);
        let now = listing(churn, n);
        assert_eq!(gone(&before, &now).len(), churn as usize);
        group.bench_with_input(BenchmarkId::new("hash set", n), &n, |b, _| {
            b.iter(|| gone(black_box(&before), black_box(&now)).len());
        });
        if n <= 10_000 {
            assert_eq!(nested(&before, &now), gone(&before, &now));
            group.bench_with_input(BenchmarkId::new("nested scan", n), &n, |b, _| {
                b.iter(|| nested(black_box(&before), black_box(&now)).len());
            });
        }
    }
    group.finish();
}

criterion_group!(benches, diff);
criterion_main!(benches);

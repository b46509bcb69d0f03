//! Rendering one dashboard frame with 10,000 connections in the list and a
//! 500-segment ladder selected, on TestBackend 200x60 (criterion).
//!
//! `cargo bench --bench render`

use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use synack::model::segment::{Flags, Preview, Segment, TcpOptions, Timestamp};
use synack::model::seq::SeqNum;
use synack::pipeline::Pipeline;
use synack::tui::app::{App, Msg, Source};
use synack::tui::ui;

fn seg(src: SocketAddr, dst: SocketAddr, t: u64, flags: Flags, seq: u32, ack: u32, data: &[u8]) -> Segment {
    Segment {
        ts: Timestamp(1_700_000_000_000_000_000 + t * 1_000),
        src,
        dst,
        flags,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        window: 512,
        options: TcpOptions::default(),
        payload_len: u32::try_from(data.len()).unwrap(),
        preview: Preview::new(data),
        encap: Default::default(),
        icmp: None,
    }
}

/// 9,999 short connections, then one with 500 segments (the selected one).
fn app() -> App {
    let server: SocketAddr = "127.0.0.1:8001".parse().unwrap();
    let mut app = App::new(
        Pipeline::new(Some(8001), synack::model::tracker::Limits::both(10_000)),
        Source::Live { interface: "lo".into(), port: 8001 },
        true,
    );
    let mut t = 0;
    let push = |app: &mut App, s: Segment| {
        app.update(Msg::Decoded(Ok(Some(s))));
    };
    for i in 0..9_999u32 {
        let c: SocketAddr = format!("127.0.0.{}:{}", 2 + i / 50_000, 10_000 + i % 50_000).parse().unwrap();
        let (a, b) = (1000, 5000);
        for (src, dst, f, s, k, d) in [
            (c, server, Flags::SYN, a, 0, &b""[..]),
            (server, c, Flags::SYN | Flags::ACK, b, a + 1, b""),
            (c, server, Flags::ACK, a + 1, b + 1, b""),
            (c, server, Flags::PSH | Flags::ACK, a + 1, b + 1, b"helloworld"),
            (server, c, Flags::PSH | Flags::ACK, b + 1, a + 11, b"HELLOWORLD"),
            (c, server, Flags::FIN | Flags::ACK, a + 11, b + 11, b""),
            (server, c, Flags::FIN | Flags::ACK, b + 11, a + 12, b""),
            (c, server, Flags::ACK, a + 12, b + 12, b""),
        ] {
            t += 10;
            push(&mut app, seg(src, dst, t, f, s, k, d));
        }
    }
    let c: SocketAddr = "127.0.0.9:40000".parse().unwrap();
    push(&mut app, seg(c, server, t, Flags::SYN, 0, 0, b""));
    push(&mut app, seg(server, c, t + 1, Flags::SYN | Flags::ACK, 0, 1, b""));
    push(&mut app, seg(c, server, t + 2, Flags::ACK, 1, 1, b""));
    for i in 0..497u32 {
        let (src, dst, seq, ack) =
            if i % 2 == 0 { (c, server, 1 + i * 10, 1) } else { (server, c, 1, 1 + (i + 1) * 10) };
        let data: &[u8] = if i % 2 == 0 { b"0123456789" } else { b"" };
        push(&mut app, seg(src, dst, t + 3 + u64::from(i), Flags::PSH | Flags::ACK, seq, ack, data));
    }
    app
}

fn bench(c: &mut Criterion) {
    let app = app();
    assert_eq!(app.pipeline.tracker.len(), 10_000);
    assert_eq!(app.current().unwrap().records.len(), 500);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("render 200x60, 10k connections, 500-segment ladder", |b| {
        b.iter(|| terminal.draw(|f| ui::render(&app, f)).unwrap().area.width);
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The echo server under hostile load: 2,000 idle connections and 128 slow
//! ones (an in-band command line begun, then a byte every half second, never
//! a whole request: the only requests the server gathers) while 10,000 seed
//! clients run. Every seed client gets the right answer, and the server never
//! runs more threads than its documented cap (one accept thread, 64 workers, the control
//! and UDP threads).

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use synack::echo::{self, ServerConfig};
use synack::scenario::Scenario;

/// The tests of this file run one at a time: the thread count is per process.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ALONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Threads of this process whose name starts with `prefix`.
fn threads(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[test]
fn seed_clients_are_served_beside_idle_and_slow_ones() {
    let _alone = alone();
    let limit = synack::os::sock::raise_fd_limit().unwrap();
    assert!(limit >= 5_000, "the test needs descriptors for 2,128 hostile clients (limit {limit})");
    let config = ServerConfig::default();
    // One accept thread, one control thread, one UDP thread, the workers.
    let cap = config.max_workers + 3;
    let server = echo::Server::start(echo::bind("127.0.0.1:0".parse().unwrap()).unwrap(), config);
    let addr = server.addr();
    // 2,000 connections that never send anything.
    let idle: Vec<TcpStream> = (0..2_000).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // 128 that begin a command line, then send a byte every 500 ms, never a
    // newline, for at most 20 s (a first read without the command prefix is
    // answered at once, as the tutorial's server answers its recv(1024)).
    let stop = Arc::new(AtomicBool::new(false));
    let slow_stop = stop.clone();
    let (started, slow_started) = std::sync::mpsc::channel();
    let slow = std::thread::spawn(move || {
        let mut conns: Vec<TcpStream> = (0..128).map(|_| TcpStream::connect(addr).unwrap()).collect();
        for c in &mut conns {
            c.write_all(echo::COMMAND_PREFIX.as_bytes()).unwrap();
        }
        let until = Instant::now() + Duration::from_secs(20);
        let mut sent = 0u64;
        loop {
            for c in &mut conns {
                // The server closes them in time: their writes may then fail.
                if c.write_all(b"x").is_ok() {
                    sent += 1;
                }
            }
            // The seed clients start once every slow one has sent its first byte.
            let _ = started.send(());
            if slow_stop.load(Ordering::Relaxed) || Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        sent
    });
    slow_started.recv().expect("the slow clients connected");
    let report = echo::run_clients(Scenario::Seed, addr, "helloworld", 10_000, 8);
    let server_threads = threads("echo-");
    stop.store(true, Ordering::Relaxed);
    let slow_bytes = slow.join().unwrap();
    drop(idle);
    server.stop();
    assert_eq!((report.ok, report.failed), (10_000, 0), "{:?}", report.first_error);
    assert!(slow_bytes > 0, "the slow clients ran");
    assert!(server_threads <= cap, "{server_threads} server threads, the cap is {cap}");
}

/// Every scenario, one after the other, twenty times over: no failure (the
/// refused one leaves the server listening again before it returns).
#[test]
fn all_scenarios_back_to_back_twenty_times() {
    let _alone = alone();
    let server = echo::Server::start(echo::bind("127.0.0.1:0".parse().unwrap()).unwrap(), ServerConfig::default());
    for round in 0..20 {
        for info in synack::scenario::SCENARIOS {
            let out = echo::run_scenario(info.scenario, server.addr(), "helloworld");
            assert!(out.is_ok(), "round {round}, {}: {:?}", info.name, out);
        }
    }
    server.stop();
}

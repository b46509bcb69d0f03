//! Stop signals, handled alike everywhere: SIGINT (Ctrl-C), SIGTERM, SIGHUP
//! and SIGQUIT ask synack to stop. `trace` then writes what it holds and exits
//! 0; the dashboard leaves the terminal as it found it; `serve` stops
//! accepting. IO at the edge: nothing in the core knows about signals.

use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

/// The signals that stop synack.
pub const STOP: [i32; 4] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT];

/// A flag set when a stop signal arrives.
///
/// # Errors
/// When a handler cannot be installed.
pub fn flag() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in STOP {
        signal_hook::flag::register(sig, flag.clone())?;
    }
    Ok(flag)
}

/// Calls `on_stop` on a thread of its own the first time a stop signal arrives.
///
/// # Errors
/// When the handlers or the thread cannot be set up.
pub fn on_stop(on_stop: impl FnOnce(i32) + Send + 'static) -> io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new(STOP)?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(sig) = signals.forever().next() {
            on_stop(sig);
        }
    })?;
    Ok(())
}

//! Last words before a terminating signal ends the program: while an [`OnSignal`] is
//! alive, SIGINT, SIGTERM and SIGHUP first run its action (remove a half-written file,
//! erase a progress line), then end the program as they would have. Output files and the
//! command line's progress line use it.

use std::sync::Arc;

use signal_hook::SigId;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::low_level;

/// An action for the terminating signals, registered until this is dropped.
pub struct OnSignal {
    ids: Vec<SigId>,
}

impl OnSignal {
    /// Runs `action` if SIGINT, SIGTERM or SIGHUP arrives while the returned value is
    /// alive, after any action registered before (such as the explorer's terminal
    /// restore), then lets the signal end the program.
    ///
    /// # Safety
    /// `action` runs in a signal handler: it may call only async-signal-safe functions
    /// (`write`, `unlink`, …) and must not allocate, take a lock or panic.
    pub unsafe fn run(action: impl Fn() + Send + Sync + 'static) -> OnSignal {
        let action = Arc::new(action);
        let ids = [SIGINT, SIGTERM, SIGHUP]
            .into_iter()
            .filter_map(|signal| {
                let action = Arc::clone(&action);
                // SAFETY: `action` is async-signal-safe (the caller's promise), and so is
                // signal-hook's emulation of the default action.
                unsafe {
                    low_level::register(signal, move || {
                        action();
                        let _ = low_level::emulate_default_handler(signal);
                    })
                }
                .ok()
            })
            .collect();
        OnSignal { ids }
    }
}

impl Drop for OnSignal {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            low_level::unregister(id);
        }
    }
}

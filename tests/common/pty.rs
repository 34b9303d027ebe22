//! The pseudo-terminal harness of the end-to-end tests: start the real binary in a
//! pseudo-terminal, read its screen through a vt100 parser (fed by a thread that drains the
//! output, so the program never blocks on writing), press keys, resize the terminal, send
//! signals, and look at the terminal it leaves behind.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// Longest wait for a screen (the debug build of the default example takes a few seconds).
pub const PATIENCE: Duration = Duration::from_secs(120);

/// The binary running in a pseudo-terminal, and what it has drawn so far.
pub struct Session {
    /// The screen as a terminal would show it.
    pub parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote, in order.
    output: Arc<Mutex<Vec<u8>>>,
    /// Disconnected once the drain thread has read the last byte.
    drained: Receiver<()>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    /// The program's working directory, a fresh one: whatever it saves (the explorer's
    /// `p`) lands there and is removed with the session.
    _workdir: tempfile::TempDir,
}

impl Session {
    /// Starts `jacscope args…` in a `cols × rows` terminal with `TERM=xterm-256color` and
    /// the given changes to the environment (`None` removes a variable).
    pub fn start(args: &[&str], (cols, rows): (u16, u16), env: &[(&str, Option<&str>)]) -> Session {
        let pty = native_pty_system()
            .openpty(pty_size(cols, rows))
            .expect("open a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_jacscope"));
        command.args(args);
        command.env("TERM", "xterm-256color");
        let workdir = tempfile::tempdir().expect("a working directory");
        command.cwd(workdir.path());
        for (name, value) in env {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            }
        }
        let child = pty.slave.spawn_command(command).expect("start jacscope");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let output = Arc::new(Mutex::new(Vec::new()));
        let (done, drained) = mpsc::channel::<()>();
        let (sink, transcript) = (Arc::clone(&parser), Arc::clone(&output));
        thread::spawn(move || {
            let _done = done;
            let mut buffer = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buffer[..n]);
                transcript.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Session {
            parser,
            output,
            drained,
            writer,
            child,
            master: pty.master,
            _workdir: workdir,
        }
    }

    /// `f` of the screen as it is now.
    pub fn screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        f(self.parser.lock().unwrap().screen())
    }

    /// The text on the screen.
    pub fn contents(&self) -> String {
        self.screen(vt100::Screen::contents)
    }

    /// Every byte the program has written so far.
    pub fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    /// Waits until `ready` holds for the screen and the screen has stopped changing;
    /// returns that screen. Fails if the program exits first or after [`PATIENCE`]; `what`
    /// names the wait in the failure message.
    pub fn wait_until(
        &mut self,
        what: &str,
        ready: impl FnMut(&vt100::Screen) -> bool,
    ) -> vt100::Screen {
        self.wait_until_within(PATIENCE, what, ready)
    }

    /// [`Session::wait_until`] with a patience of `patience` instead of [`PATIENCE`], for
    /// screens that must come soon (a program that waits for another key never draws them).
    pub fn wait_until_within(
        &mut self,
        patience: Duration,
        what: &str,
        mut ready: impl FnMut(&vt100::Screen) -> bool,
    ) -> vt100::Screen {
        let start = Instant::now();
        let mut previous = String::new();
        loop {
            let screen = self.screen(vt100::Screen::clone);
            let now = screen.contents();
            if now == previous && ready(&screen) {
                return screen;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("jacscope exited ({status:?}) before {what}:\n{now}");
            }
            assert!(
                start.elapsed() < patience,
                "timed out waiting for {what}; the screen is:\n{now}"
            );
            previous = now;
            thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits until the screen shows `text` and has stopped changing; returns it.
    pub fn wait_for(&mut self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |screen| {
            screen.contents().contains(text)
        })
        .contents()
    }

    /// Waits until the screen no longer shows `text`.
    pub fn wait_without(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let now = self.contents();
            if !now.contains(text) {
                return now;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "timed out waiting for {text:?} to go; the screen is:\n{now}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `keys` (raw bytes as a terminal sends them).
    pub fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Changes the terminal's size (the program gets SIGWINCH), and the parser's with it.
    pub fn resize(&mut self, (cols, rows): (u16, u16)) {
        // vt100 0.16 underflows wrapping text on a one-row screen: its screen stays at
        // least 2×2 (a larger screen shows the same cells; the program sees the real size).
        self.parser
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(rows.max(2), cols.max(2));
        self.master
            .resize(pty_size(cols, rows))
            .expect("resize the pseudo-terminal");
    }

    /// The program's process id.
    pub fn pid(&self) -> i32 {
        let pid = self.child.process_id().expect("jacscope has a process id");
        i32::try_from(pid).expect("a process id fits in pid_t")
    }

    /// Waits until `ready` holds for the session (its screen, its terminal's modes, its
    /// process), for at most `patience`; `what` names the wait in the failure message.
    pub fn wait_for_state(&self, patience: Duration, what: &str, ready: impl Fn(&Session) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            assert!(
                start.elapsed() < patience,
                "timed out waiting for {what}; the screen is:\n{}",
                self.contents()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// True while the program is stopped (by SIGTSTP or SIGSTOP), as `/proc` says.
    pub fn is_stopped(&self) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("the program's /proc/PID/stat");
        // The state follows the command's name, which is in parentheses.
        let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
        state == Some(Some('T'))
    }

    /// True while the program runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the program to exit and for its last output to reach the screen; returns
    /// how it ended.
    pub fn wait_status(&mut self) -> ExitStatus {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(start.elapsed() < PATIENCE, "jacscope did not exit");
            thread::sleep(Duration::from_millis(50));
        };
        // The drain thread ends when the terminal's last writer has gone.
        let rest = PATIENCE.saturating_sub(start.elapsed());
        assert!(
            self.drained.recv_timeout(rest) != Err(mpsc::RecvTimeoutError::Timeout),
            "the output of jacscope did not end"
        );
        status
    }

    /// Waits for the program to exit; returns whether it succeeded.
    pub fn wait_exit(&mut self) -> bool {
        self.wait_status().success()
    }

    /// True while the alternate screen is shown.
    pub fn in_alternate_screen(&self) -> bool {
        self.screen(vt100::Screen::alternate_screen)
    }

    /// True if the terminal's line discipline is in cooked mode: canonical input and echo,
    /// as before the program started (raw mode turns both off).
    pub fn cooked(&self) -> bool {
        let termios = self.master.get_termios().expect("the terminal's settings");
        let wanted = libc::ICANON | libc::ECHO;
        termios.local_flags.bits() & wanted == wanted
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The child is ours; make sure a failed test does not leave it running.
        let _ = self.child.kill();
    }
}

fn pty_size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

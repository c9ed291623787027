//! Server-sent events (the `text/event-stream` format of the HTML standard),
//! parsed incrementally from body chunks: lines end with LF, CRLF or CR;
//! `data:` lines of one event are joined by LF; a blank line ends an event;
//! `:` lines are comments. Bounded: an event over the cap is an error, not
//! a buffer that grows without end.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, when given (`message` is the default type).
    pub event: Option<String>,
    /// The `data:` lines, joined by LF.
    pub data: String,
}

/// Why the stream cannot be read further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseError {
    /// One event (or one line) is larger than the cap.
    TooLarge(usize),
    /// The bytes of an event are not UTF-8.
    NotUtf8,
}

/// An incremental parser.
#[derive(Debug)]
pub(crate) struct SseParser {
    max_event: usize,
    line: Vec<u8>,
    /// A CR ended the last line: a following LF belongs to it.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// Bytes of the event being read so far.
    event_bytes: usize,
}

impl SseParser {
    /// A parser whose events (all their lines together) are at most `max_event` bytes.
    pub(crate) fn new(max_event: usize) -> Self {
        Self {
            max_event,
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            event_bytes: 0,
        }
    }

    /// Whether bytes of an unfinished event are held (a stream that ends now
    /// was cut mid-event).
    pub(crate) fn mid_event(&self) -> bool {
        !self.line.is_empty() || self.has_data || self.event.is_some()
    }

    /// Feeds a chunk; appends the events it completes to `out`.
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out)?;
                }
                _ => {
                    self.event_bytes += 1;
                    if self.event_bytes > self.max_event {
                        return Err(SseError::TooLarge(self.max_event));
                    }
                    self.line.push(b);
                }
            }
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                out.push(SseEvent { event: self.event.take(), data: std::mem::take(&mut self.data) });
            }
            self.event = None;
            self.has_data = false;
            self.event_bytes = 0;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {} // id, retry and unknown fields: not needed here
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]], max: usize) -> (Vec<SseEvent>, Result<(), SseError>) {
        let mut p = SseParser::new(max);
        let mut out = Vec::new();
        for c in chunks {
            if let Err(e) = p.push(c, &mut out) {
                return (out, Err(e));
            }
        }
        (out, Ok(()))
    }

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent { event: event.map(str::to_owned), data: data.to_owned() }
    }

    #[test]
    fn events_split_anywhere_and_every_line_ending() {
        let whole = b"data: {\"a\":1}\n\n: comment\r\nevent: error\r\ndata: x\r\ndata: y\r\n\r\ndata:z\r\rid: 7\n\n";
        let expected = vec![ev(None, "{\"a\":1}"), ev(Some("error"), "x\ny"), ev(None, "z")];
        for split in 0..whole.len() {
            let (events, r) = parse(&[&whole[..split], &whole[split..]], 1024);
            assert_eq!((events, r), (expected.clone(), Ok(())), "split at {split}");
        }
        // Byte by byte.
        let chunks: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(parse(&chunks, 1024).0, expected);
    }

    #[test]
    fn an_unfinished_event_is_held_not_emitted() {
        let mut p = SseParser::new(1024);
        let mut out = Vec::new();
        p.push(b"data: {\"half\":", &mut out).unwrap();
        assert!(out.is_empty() && p.mid_event());
        p.push(b"1}\n", &mut out).unwrap();
        assert!(out.is_empty() && p.mid_event());
        p.push(b"\n", &mut out).unwrap();
        assert_eq!(out, [ev(None, "{\"half\":1}")]);
        assert!(!p.mid_event());
        // Blank lines and events with no data emit nothing.
        p.push(b"\n\nevent: ping\n\n", &mut out).unwrap();
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn events_are_bounded() {
        let (events, r) = parse(&[b"data: 12345\n\n", b"data: 1234567890", b"1234567890"], 16);
        assert_eq!(events, [ev(None, "12345")]);
        assert_eq!(r, Err(SseError::TooLarge(16)));
        // One endless line without a newline hits the same bound.
        assert_eq!(parse(&[&[b'x'; 100]], 64).1, Err(SseError::TooLarge(64)));
        assert_eq!(parse(&[b"data: \xff\n\n"], 64).1, Err(SseError::NotUtf8));
    }
}

//! `trace --format jsonl`: one object per connection per line, field for field
//! as DESIGN.md defines it. Fields may be added, never renamed.

use std::io::{self, Write};

use serde::Serialize;

use super::Exporter;
use crate::model::tracker::{Connection, Record};

/// JSON lines.
pub struct JsonlExporter;

#[derive(Serialize)]
struct Json<'a> {
    id: u64,
    client: String,
    server: String,
    start_unix: f64,
    duration_ms: f64,
    segments: Vec<JsonSegment<'a>>,
    handshake: JsonHandshake,
    close: JsonClose,
    final_states: JsonStates,
    payload_bytes: JsonBytes,
    retransmissions: u32,
}

#[derive(Serialize)]
struct JsonSegment<'a> {
    t_ms: f64,
    dir: &'a str,
    flags: String,
    seq: u32,
    ack: u32,
    len: u32,
    phase: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<u8>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    retransmission: bool,
    client_state: &'a str,
    server_state: &'a str,
}

#[derive(Serialize)]
struct JsonHandshake {
    complete: bool,
    segments: u32,
    syn_retransmits: u32,
    rtt_ms: Option<f64>,
}

#[derive(Serialize)]
struct JsonClose {
    kind: &'static str,
    initiator: Option<&'static str>,
    segments: u32,
    data_after_fin: bool,
}

#[derive(Serialize)]
struct JsonStates {
    client: &'static str,
    server: &'static str,
}

#[derive(Serialize)]
struct JsonBytes {
    c2s: u64,
    s2c: u64,
}

/// Rounds to microsecond precision in milliseconds, so output stays short.
fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn segment(conn: &Connection, r: &Record) -> JsonSegment<'static> {
    JsonSegment {
        t_ms: ms(r.ts.millis_since(conn.start())),
        dir: r.dir.name(),
        flags: r.flags.to_string(),
        seq: r.rel_seq,
        ack: r.rel_ack,
        len: r.payload_len,
        phase: r.phase.name(),
        step: r.step,
        retransmission: r.retransmission,
        client_state: r.client_state.name(),
        server_state: r.server_state.name(),
    }
}

/// The JSON object for one connection.
///
/// # Errors
/// Never in practice: serialising these plain values cannot fail.
pub fn to_json(conn: &Connection) -> serde_json::Result<String> {
    #[allow(clippy::cast_precision_loss)]
    let rtt_ms = conn.handshake.rtt.map(|ns| ms(ns as f64 / 1e6));
    let j = Json {
        id: conn.id,
        client: conn.client.addr.to_string(),
        server: conn.server.addr.to_string(),
        start_unix: conn.start().as_secs_f64(),
        duration_ms: ms(conn.last().millis_since(conn.start())),
        segments: conn.records.iter().map(|r| segment(conn, r)).collect(),
        handshake: JsonHandshake {
            complete: conn.handshake.complete(),
            segments: conn.handshake.segments,
            syn_retransmits: conn.handshake.syn_retransmits,
            rtt_ms,
        },
        close: JsonClose {
            kind: conn.close_kind().name(),
            initiator: conn.initiator(),
            segments: conn.close_segments(),
            data_after_fin: conn.data_after_fin,
        },
        final_states: JsonStates {
            client: conn.client.state.name(),
            server: conn.server.state.name(),
        },
        payload_bytes: JsonBytes {
            c2s: conn.client.payload_bytes,
            s2c: conn.server.payload_bytes,
        },
        retransmissions: conn.retransmissions,
    };
    serde_json::to_string(&j)
}

impl Exporter for JsonlExporter {
    fn connection(&mut self, conn: &Connection, out: &mut dyn Write) -> io::Result<()> {
        let line = to_json(conn).map_err(io::Error::other)?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")
    }
}

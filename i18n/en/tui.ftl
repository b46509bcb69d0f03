# tui: ids tui-*. The dashboard's words: status line, list, ladder titles,
# panels, keys, help, notices, the listener lane, the tour's captions.
# {" "} keeps a space Fluent would trim at either end of a value.

## Status line
tui-status-paused = PAUSED
tui-status-live = LIVE
tui-status-step = STEP
tui-status-replay-end = REPLAY (end)
tui-status-replay = REPLAY
tui-status-live-mode = { $state } { $interface } tcp/udp port { $port }
tui-status-step-held = STEP HELD (space goes on)
tui-status-hold = HOLD #{ $id }
tui-status-hold-udp = HOLD udp #{ $id }
tui-status-follow = FOLLOW
tui-status-held = HELD
tui-status-connections = { $n ->
    [one] { $n } connection
   *[other] { $n } connections
}
tui-status-connections-short = { $n ->
    [one] { $n } conn
   *[other] { $n } conns
}
tui-status-flows = { $n ->
    [one] { $n } UDP flow
   *[other] { $n } UDP flows
}
tui-status-flows-short = { $n } udp
tui-status-packets = { $n ->
    [one] { $n } packet
   *[other] { $n } packets
}
tui-status-packets-short = { $n } pkts
tui-status-drops = kernel drops { $n }
tui-status-drops-short = drops { $n }
tui-status-kernel = kernel view ⚙
tui-status-kernel-off = kernel view off
tui-status-kernel-off-short = no ⚙
tui-status-gone = { $n } evicted or cleared
tui-status-gone-short = { $n } gone
tui-status-left-out = { $n ->
    [one] { $n } try left out
   *[other] { $n } tries left out
}
tui-status-left-out-short = { $n } left out
tui-status-lost = { $n } lost (view behind)
tui-status-lost-short = { $n } lost
tui-status-held-count = { $n } held
tui-status-undecodable = { $n } undecodable
tui-status-undecodable-short = { $n } bad

## The connection list
tui-list-title = {" "}Connections{" "}
tui-list-title-sorted = {" "}Connections ── { $order } (o){" "}
tui-list-title-typing = {" "}Connections ── filter: { $filter }▏ (Enter keeps, Esc clears){" "}
tui-list-title-filtered = {" "}Connections ── filter: { $filter } ── { $shown } of { $total } (/ to change){" "}
tui-list-time-wait = { $role ->
    [client] client
   *[server] server
} TIME-WAIT { $secs }
tui-list-no-match = no connection matches '{ $filter }' (Esc clears)
tui-list-waiting-step = waiting for the step's connection...
tui-list-waiting = waiting for connections...
tui-list-waiting-keys = waiting for connections: press { $one } for one, { $closes } closes, { $udp } UDP
tui-col-proto = proto
tui-col-client = client
tui-col-client-state = client state
tui-col-server-state = server state
tui-col-open = open
tui-col-close = close
tui-col-kind = kind
tui-col-scenario = scenario
tui-col-age-countdown = age / countdown
tui-col-port = port
tui-col-client-short = client
tui-col-server-short = server
tui-col-age = age
tui-sort-started = as they started
tui-sort-kind = by close kind
tui-sort-duration = longest first

## Close kinds as the list and the ladder's title show them
tui-kind-four-way = four-way
tui-kind-three-way = three-way
tui-kind-simultaneous = simultaneous
tui-kind-reset = reset
tui-kind-refused = refused
tui-kind-open = open
tui-kind-before-capture = begun-before-capture
tui-kind-udp-no-close = no close
tui-kind-udp-icmp = ICMP error

## The ladder
tui-ladder-title = {" "}Ladder{" "}
tui-ladder-times-relative = {" "}── t: ms from the start
tui-ladder-times-delta = {" "}── t: ms from the row before
tui-ladder-times-absolute = {" "}── t: clock time, UTC
tui-ladder-not-yet = not yet
tui-ladder-carried = {" "}── in { $encap }
tui-ladder-close = close: { $kind }
tui-ladder-ends = client { $client } ── server { $server }
tui-ladder-above = {" "}▲ { $n } above{" "}
tui-ladder-below = {" "}▼ { $n } below{" "}
tui-udp-title-short = {" "}UDP #{ $id } ── no state{" "}
tui-udp-title = {" "}UDP flow #{ $id } ── no state{" "}
tui-udp-title-long = {" "}UDP flow #{ $id } client { $client } ── server { $server } ── no state{" "}

## The explanation panel
tui-panel-title = {" "}What it means{" "}
tui-panel-more = {" "}▼ { $n } more { $n ->
    [one] line
   *[other] lines
}: enlarge the terminal{" "}
tui-udp-verdict = { $verdict }.
tui-udp-so-far = So far: { $verdict }.
tui-udp-no-state = UDP keeps no connection state on the wire: nothing to open, nothing to close.

## The demo's tour
tui-tour-count-tcp = TCP connection #{ $id }: { $n ->
    [one] { $n } segment
   *[other] { $n } segments
}
tui-tour-count-udp = UDP flow #{ $id }: { $n ->
    [one] { $n } datagram
   *[other] { $n } datagrams
}
tui-tour-count-gap = ;{" "}
tui-tour-counts = In the list, { $counts }.
tui-tour-over = The tour is over: { $n } steps. p shows a step again; q quits.
tui-tour-step = Step { $i }/{ $n }: { $caption }
tui-tour-tries = It took { $n } tries: the { $left } before closed without the FINs crossing and are left out.

## Notices
tui-notice-capture-stopped = capture stopped: { $error }
tui-notice-capture-empty = the capture holds no TCP segment or UDP datagram on the watched port
tui-notice-capture-read = capture read: { $n } segments to step through (space)
tui-notice-capture-end = end of capture
tui-scenario-unnamed = a scenario
tui-notice-scenario-failed = { $name } failed: { $error }
tui-notice-udp-refused = { $name }: send() of { $sent } bytes to { $to } succeeded, the next recv() failed with ECONNREFUSED: the ICMP port unreachable reached the client's connected socket
tui-notice-retried = { $name }: the FINs crossed on try { $try_n }; the { $left } { $left ->
    [one] try
   *[other] tries
} before did not show a crossing and { $left ->
    [one] is
   *[other] are
} left out
tui-notice-no-scenarios-replay = scenario keys run connections live: a replay only shows the capture
tui-notice-no-scenarios-live = scenario keys need synack's echo server, which --no-serve leaves out (run synack without it, or synack serve beside it)
tui-notice-time-column = the time column needs a ladder { $need } columns wide (now { $width }): enlarge the terminal
tui-notice-calls-shown = socket calls shown (◆)
tui-notice-calls-hidden = socket calls hidden
tui-notice-lane-live-only = the listener lane reads the kernel's queues now: live capture only
tui-notice-export-udp = e exports TCP connections; synack trace --read FILE draws UDP flows (text, jsonl, Mermaid, SVG)
tui-diagram-too-small = the state diagram needs a terminal of at least 92 x 40 (beside the ladder: 192 x 40); enlarge it

## Too small
tui-too-small = synack: the terminal is too small
tui-too-small-enlarge = enlarge it to at least { $w } x { $h }
tui-too-small-now = (now { $w } x { $h })
tui-too-small-quit = q quits

## The footer's keys
tui-key-connection = ↑↓ connection
tui-key-segment = ←→ segment
tui-key-focus = tab focus
tui-key-connection-short = ↑↓ conn
tui-key-segment-short = ←→ seg
tui-key-next-step = n next step
tui-key-back = p back
tui-key-hold = space hold
tui-key-next = space next
tui-key-pause = space pause
tui-key-follow = f follow
tui-key-clear = c clear
tui-key-export = e export
tui-key-scenarios = { $keys } scenarios
tui-key-run = { $keys } run
tui-key-help = ? help
tui-key-quit = q quit

## The help overlay (`?`)
tui-help-title = {" "}Keys{" "}
tui-help-select-keys = ↑ ↓ or k j, mouse
tui-help-select = a connection (in the ladder: a segment); click, scroll
tui-help-move-keys = ← → or h l
tui-help-move = move through the selected connection's segments
tui-help-focus-keys = Tab / Home End
tui-help-focus = focus list or ladder (also Enter) / first, latest segment
tui-help-pause-keys = space / n p
tui-help-pause = pause (--step: next; demo: hold) / demo's next, back step
tui-help-export = export to synack-<id>.txt, .mmd, .svg (never overwrites)
tui-help-page-keys = PgUp PgDn g G
tui-help-page = a page up / down; the first / the last connection
tui-help-follow-keys = f c / t o
tui-help-follow = follow newest / clear finished; times / list order
tui-help-filter-keys = / , Esc
tui-help-filter = filter: tcp/udp, kind, scenario, state, addr, port / clear
tui-help-views-keys = d / L / i
tui-help-views = RFC 9293 state diagram / listener queues / socket calls ◆
tui-help-quit-keys = ? / q, Ctrl-C
tui-help-quit = this help (any key closes it) / quit
tui-help-scenario-note = {"  "}scenario keys work when synack's echo server runs (synack, synack demo)

## The state diagram panel
tui-diagram-title-kernel = {" "}RFC 9293 state diagram ── C client  S server  ⚙ kernel (underlined) ── d hides{" "}
tui-diagram-title = {" "}RFC 9293 state diagram ── C client  S server ── d hides{" "}
tui-diagram-abbreviations = {" "}SYN-RCVD is SYN-RECEIVED, ESTAB is ESTABLISHED (the RFC's figure abbreviates){" "}
tui-diagram-no-connection = no connection yet: the marks appear with the first SYN
tui-diagram-kernel = {"   "}kernel: { $changes }
tui-diagram-move = { $from } → { $to }  ({ $label })
tui-diagram-off = { $from } → { $to }  off the diagram: { $why }
tui-diagram-stays = stays { $state } on row { $row }
tui-diagram-row = row { $row }: { $moves }
tui-diagram-then = , then{" "}
tui-role = { $role ->
    [client] client
   *[server] server
}

## The listener lane
tui-lane-reading = listener :{ $port }: reading the kernel's queues…
tui-lane-unavailable = listener :{ $port }: the kernel's queues are unavailable ({ $error })
tui-lane-unavailable-short = listener :{ $port }: kernel queues unavailable
tui-lane-nothing-listens = nothing listens on port { $port }: no queues (connect() there is refused)
tui-lane-more-listening = {" "}(+{ $n } more listening)
tui-lane-full = {" "}FULL
tui-lane-accept-queue = accept queue { $n }/{ $holds }{ $full }
tui-lane-syn-queue = SYN queue { $n }
tui-lane-queues-long = listener { $at }{ $more }  backlog { $backlog }  { $accept } (Linux lets one more than the backlog wait)  { $syn }
tui-lane-queues = listener { $at }{ $more }  backlog { $backlog }  { $accept }  { $syn }
tui-lane-queues-short = { $at }  { $accept } (backlog { $backlog })  { $syn }
tui-lane-queues-shortest = { $at }  { $accept } (backlog { $backlog })  { $syn }
# When even the shortest does not fit: English says the same (and is cut), Chinese leaves the address out.
tui-lane-queues-bare = { $at }  { $accept } (backlog { $backlog })  { $syn }
tui-lane-again = , { $n ->
    [one] { $n } SYN-ACK
   *[other] { $n } SYN-ACKs
} sent again after one
tui-lane-again-short = , { $n ->
    [one] { $n } SYN-ACK
   *[other] { $n } SYN-ACKs
} again
tui-lane-wire = wire: { $syns ->
    [one] { $syns } SYN
   *[other] { $syns } SYNs
} unanswered, { $acks ->
    [one] { $acks } third ACK
   *[other] { $acks } third ACKs
} not taken{ $again }
tui-lane-wire-short = wire: { $syns } SYN + { $acks } 3rd ACK not taken
tui-lane-kernel = kernel since start, all ports: ListenOverflows +{ $overflows }, ListenDrops +{ $drops }
tui-lane-kernel-short = kernel +{ $overflows } overflows +{ $drops } drops
tui-lane-kernel-unavailable = kernel counters unavailable
tui-lane-kernel-unavailable-short = no kernel counters
tui-lane-drops = drops  { $wire }  ·  { $kernel }

## Scenarios: the help's line (as `--help` says it) and the tour's caption
tui-scenario-seed = the tutorial's client: connect, send helloworld, close
tui-caption-seed = The tutorial's client and server. Look at the first three rows: SYN, SYN-ACK, ACK open the connection. Then "helloworld" and its upper-cased reply. Both sides then close at once: whose FIN leaves first decides who waits in TIME-WAIT.
tui-scenario-udp = udp: "helloworld" as one datagram, its reply waited 1 s
tui-caption-udp = The same "helloworld" as step 1, now over UDP: one datagram to the server, its upper-cased reply back. Look at the ladder: no handshake, no close, and no state column, because UDP keeps no connection state.
tui-scenario-client-close = the client closes first; the server closes when it sees EOF
tui-caption-client-close = The client closes first; the server closes as soon as it reads the end of the stream. Look at the close: the server's FIN carries its ACK of the client's FIN, three segments instead of four.
tui-scenario-server-close = the server closes first; the client closes when it sees EOF
tui-scenario-slow-close = slow close: a visible four-segment close
tui-caption-slow-close = The server waits 200 ms after the client's FIN before closing. Look at the close: its ACK of the client's FIN goes out alone when the delayed-ACK timer fires, its own FIN about 200 ms after the client's: the textbook four-way close, FIN, ACK, FIN, ACK.
tui-scenario-half-close = half-close: data flows after the client's FIN
tui-caption-half-close = A half-close: the client shuts down writing only. Look after the client's FIN: the server still sends three chunks and the client acknowledges them; then the server closes.
tui-scenario-abort = abort: RST instead of FIN
tui-caption-abort = An abortive close: SO_LINGER 0 makes the client's close() send RST. Look at the last row: no FIN on either side, and nobody waits in TIME-WAIT.
tui-scenario-simultaneous = simultaneous close: both FINs cross
tui-caption-simultaneous = Both sides close at the same instant. Look at the two FINs: each leaves before the other arrives (✕ FINs cross), so each side goes FIN-WAIT-1, CLOSING, TIME-WAIT.
tui-scenario-refused = refused: the server stops listening for a moment
tui-caption-refused = A refused connection: nothing listens for a moment. Look at the two rows: the SYN is answered by RST-ACK, and no connection ever opened.
tui-scenario-close-wait = close-wait: the server application holds its socket 3 s
tui-caption-close-wait = The server's application forgets to close. Look after the client's FIN: it is acknowledged, then nothing for 3 s: the server's socket sits in CLOSE-WAIT, the client's in FIN-WAIT-2. Thousands of CLOSE-WAIT on a server mean this.
tui-scenario-backlog = backlog: listen(3), eight clients at once, the queue fills
tui-caption-backlog = The server calls listen(3), as the tutorial does, and stops accepting for 2 s; eight clients connect at once. listen(3) bounds the accept queue: handshakes done, not yet taken by accept(). Linux finds it full only when more than 3 wait, so four fit. While it is full, Linux drops new SYNs and third ACKs; TCP never resends a bare ACK: what comes again is the client's SYN, its data (which carries the ACK) or the server's SYN-ACK. The tutorial calls the 3 the size of the half-connection pool (半连接池): half right. Handshakes not yet done (SYN-RECEIVED: embryonic connections) wait in another queue, the SYN queue, and on Linux the same 3 bounds it too; the accept queue holds complete connections. Then the server accepts one every 200 ms: watch the listener lane drain.
tui-scenario-stream = stream: two send()s, one recv() (message boundaries)
tui-caption-stream = TCP is a byte stream. The client sends "hello" and "world" in two send() calls 10 ms apart: two segments. The server waits 50 ms after accept(), then its one recv(1024) returns both, 10 bytes. Then a 1,025-byte message takes two recv(1024): 1,024, then 1. Look at the ◆ rows: calls are not segments.
tui-scenario-udp-closed = udp-closed: ICMP back; connected recv: ECONNREFUSED

## The built-in client's errors (a scenario's notice, `synack client`)
tui-echo-no-crossing = the FINs did not cross in { $tries } tries (each closed after seeing the other's FIN): no simultaneous close
tui-echo-wrong-reply = the server answered { $got } where an echo server answers { $want }
tui-echo-no-control = { $addr } has no synack control channel: the backlog scenario needs synack's server, which stops accepting when asked
tui-echo-client-panicked = a backlog client panicked
tui-echo-kept-accepting-paused = { $addr } kept accepting connections during its pause
tui-echo-kept-accepting = { $addr } kept accepting connections; the refused scenario needs a port where nothing listens (or a synack server, which stops listening when asked)
tui-udp-echo-wrong-reply = the server answered { $got } where the echo server answers { $want }
tui-udp-echo-no-reply = no reply within { $secs } s: the datagram or its reply was lost, or nothing answers UDP on { $addr } (UDP resends nothing)
tui-udp-echo-refused = nothing listens on UDP { $addr }: its ICMP port unreachable came back as ECONNREFUSED
tui-udp-echo-no-icmp = no ICMP port unreachable from { $target } within { $secs } s (a firewall may drop it)
tui-udp-echo-answered = { $target } answered { $n } bytes: something listens there

## The dashboard's other notices
tui-notice-kernel-lost = kernel view: { $n } state changes or socket calls lost (the kernel's rings or the backlog were full)
tui-needs-terminal = the dashboard needs a terminal; use 'synack trace' for plain output
tui-notice-exported = exported #{ $id } to { $files }
tui-notice-export-failed = export failed: { $error }
tui-notice-cannot-start = cannot start it: { $error }

# The states' names glossed under the help, in a language that needs it:
# none in English.
tui-help-states = {""}

# explain: ids explain-*. The verdict on a connection's close and what the
# facts say of it (src/model/explain.rs, src/model/explain/calls.rs), an
# ICMP error (explain::icmp), a UDP flow's verdict (src/model/udp.rs).
# One message a sentence (or a clause another message takes whole).
# Arguments: $who, $peer are "client" or "server"; $ms and $at are
# milliseconds as text ("0.040", "41"), the unit is in the message; $n and
# other counts are whole numbers; yes/no arguments choose a variant.

## A role, as other messages name it.
explain-who = { $who }
explain-peer = { $peer }

## The close's kind (CloseKind::name).
explain-close-kind = close: { $kind }.

## A connection still open, or whose close had not finished.
explain-open-fin = The { $who } sent a FIN; the close had not finished when the capture ended.
explain-open = The connection was still open when the capture ended.
explain-data-after-fin = Data flowed after the first FIN (half-close).
explain-after-close = { $n ->
    [one] { $n } segment
   *[other] { $n } segments
} came after the close had finished.
explain-icmp-one = An ICMP error ({ explain-icmp-name }) came back about a segment the { $who } sent.
explain-icmp-many = { $n } ICMP errors came back about the connection's segments.

## The opening: SYNs dropped, the third ACK dropped.
explain-syns-dropped = The server did not take the client's { $n ->
    [1] first SYN
   *[other] first { $n } SYNs
}: it answered only { $ms } ms after the first SYN.
explain-host-dropped = Both ends are on one host, so no link lost { $n ->
    [1] it
   *[other] them
}: the host dropped { $n ->
    [1] it
   *[other] them
}, most likely the listener.
explain-syn-drop = Linux drops a SYN while the listener's accept queue is full, and also while its SYN queue is full if net.ipv4.tcp_syncookies is 0.
explain-syns-lost = { $n ->
    [1] It was
   *[other] They were
} lost on the way, or dropped by a listener whose queue was full.
explain-syn-again = The client sent its SYN { $n ->
    [one] { $n } more time
   *[other] { $n } more times
}: no answer had come.
explain-acks-dropped = The server { $answered ->
    [none] answered none of
   *[not-taken] did not take
} the client's { $n ->
    [1] first segment
   *[other] first { $n } segments
} that acknowledged its SYN-ACK{ $stayed ->
    [yes] : it stayed in SYN-RECEIVED
   *[no] {""}
}{ $why ->
    [syn-ack] {" "}(it sent its SYN-ACK { $k ->
        [one] { $k } more time
       *[other] { $k } more times
    }; only a SYN-RECEIVED endpoint does that).
    [data] {" "}(the client sent its data again, as nothing had acknowledged it).
   *[none] {"."}
}
explain-syn-cookie = It did not send its SYN-ACK again in the { $ms } ms that followed it, although a server that keeps an embryonic connection (SYN-RECEIVED) does so after 1 s (the initial retransmission timeout, RFC 6298). So it kept no state for this connection, as a server does when its SYN-ACK carries a SYN cookie (RFC 4987), and it rebuilt the connection from the client's ACK that completed it. The rows still show SYN-RECEIVED: the state RFC 9293 gives a server that has answered a SYN.
explain-completed-as-taken = The rows take the handshake as completed at { $at } ms, { $ms } ms after the client's first ACK.
explain-completed = The handshake completed { $ms } ms after the client's first ACK, at { $at } ms.
explain-never-completed = The handshake never completed.
explain-not-completed = The handshake had not completed when the capture ended.
explain-kernel-established = The kernel moved the server's socket to ESTABLISHED at { $at } ms.
explain-unsure = The segments do not say whether the server had taken the client's ACK: a listener whose accept queue is full drops the ACK that would complete a connection, and the data after it (unless tcp_abort_on_overflow makes it answer with RST), and the rows show that case, SYN-RECEIVED until then; but a filter on the server's way in (a firewall's input rule) drops segments after a capture on lo saw them, and if it dropped only the data, the server was ESTABLISHED from the client's first ACK on.
explain-third-ack-dropped = Both ends are on one host, so the third ACK was dropped on the host. Most likely, on Linux, the accept queue was full: a listener whose accept queue is full drops the ACK that would complete a connection, unless tcp_abort_on_overflow makes it answer with RST. A firewall rule that drops these segments would look the same.
explain-queue-unseen = A capture does not show the queue: the ListenOverflows counter (nstat) and synack's listener lane do.
explain-third-ack-lost = The third ACK was lost on the way, or dropped by a server whose accept queue was full.

## TIME-WAIT taken over by a new SYN.
explain-reused = Its SYN reused the port pair of the previous connection, whose { $who } was still in TIME-WAIT ({ $ms } ms after it entered it).
explain-taken-over = The { $who }'s TIME-WAIT ended early, { $ms } ms after it began: a new SYN on the same port pair started the next connection.
explain-tw-reuse = The { $who } connected again from its own port: on Linux, a connecting socket may take over a TIME-WAIT of its own (net.ipv4.tcp_tw_reuse, which applies only to the side that connects; 2, the default, allows it on loopback only) when timestamps show that its segments are newer and a delay has passed since the TIME-WAIT began (1 s; net.ipv4.tcp_tw_reuse_delay from Linux 6.14 on). A program that chose this port with bind() also needed SO_REUSEADDR; the capture cannot show that.
explain-tw-rule = RFC 9293 §3.6.1 (MAY-2) lets an endpoint in TIME-WAIT accept a new SYN if its own new initial sequence number is larger than the largest sequence number it used on the previous connection (and go back to TIME-WAIT if the SYN turns out to be an old duplicate). Linux checks the incoming SYN instead: its sequence number must be beyond the last one the { $who } received, or its timestamp newer (RFC 6191).
explain-tw-beyond = This SYN's sequence number is beyond it.
explain-tw-newer = This SYN's sequence number is not beyond it, so its timestamp was newer.

## The last ACK lost, and the answer from TIME-WAIT.
explain-last-ack-lost = The { $peer }'s ACK of the { $who }'s FIN (at { $at } ms) did not reach the { $who }: the { $who } sent its FIN again { $ms } ms later.
explain-time-wait-answer = The { $peer }, in TIME-WAIT, still knew the connection and answered it with the ACK again (at { $at } ms): this is one reason the side that closes first waits in TIME-WAIT instead of going to CLOSED (the other: old duplicate segments die out before the port pair is used again). Had it forgotten the connection, it would have answered that FIN with RST.

## A capture that began during the close ($client, $server: states).
explain-joined-late = The capture began during the close: the kernel listed the client in { $client } and the server in { $server } then (the segments before were not captured).
explain-joined-late-end = { $finished ->
    [yes] The close finished on the wire: the client ended in { $client }, the server in { $server }.
   *[no] It had not finished when the capture ended: the client was in { $client }, the server in { $server }.
}

## Three-way and four-way closes ($who: the side that closed second, $peer: first).
explain-closed-first = The { $who } closed first.
explain-three-way-data = The { $who }'s next segment, { $ms } ms later, carried its last { $len } bytes, its FIN and the ACK of the { $peer }'s FIN: data, FIN and ACK in one segment, so steps 2 and 3 of the four-way close shared it.
explain-three-way-fin = The { $who }'s FIN, { $ms } ms after the { $peer }'s, also acknowledged it: steps 2 and 3 of the four-way close shared one segment.
explain-three-way-delack = The { $who }'s application closed within the delayed-ACK window: its TCP held back the ACK of the FIN (Linux waits at least { $delack } ms for data or a FIN to carry it), and its FIN came first.
explain-fin-acked-with-data = The { $who } acknowledged that FIN { $ms } ms later in the segment that carried its next { $len } bytes: the ACK rode on the data.
explain-fin-acked-hole = The { $who } acknowledged that FIN in a segment of its own, { $ms } ms later: { $hole }.
explain-hole = the FIN had come past a hole (the { $who }'s ACK at { $at } ms still expected byte { $byte }), and a FIN is processed only in sequence, so it waited until the bytes before it came
explain-fin-acked-at-once = The { $who } acknowledged that FIN at once, in a segment of its own ({ $ms } ms later).
explain-fin-acked-delack = The { $who } acknowledged that FIN in a segment of its own, { $ms } ms later: its delayed-ACK timer fired (Linux waits at least { $delack } ms), as no data came to carry the ACK.
explain-fin-acked-alone = The { $who } acknowledged that FIN in a segment of its own, { $ms } ms later.
explain-second-fin-half-close = It still had data to send ({ $bytes } bytes after the first FIN: a half-close), so its own FIN came later, { $ms } ms after the first: each direction was closed separately, in four segments.
explain-second-fin = Its own FIN came { $ms } ms after the first: each direction was closed separately: FIN, ACK, FIN, ACK.

## A simultaneous close ($client, $server: the states each went through, joined by " -> "; $same: yes when the two are the same).
explain-fins-crossed = Both sides sent a FIN before they had seen the other's: the FINs crossed on the wire.
explain-went = The client went { $client }. The server went { $server }.
explain-both-time-wait = Both ended in TIME-WAIT: each sent its FIN before it received the other's (FIN-WAIT-1, not CLOSE-WAIT), and a side that does that waits in TIME-WAIT.

## A reset ($first, $then: explain-reset-fact clauses; $data: bytes, 0 for none).
explain-reset-fact = the { $who } sent a FIN{ $acked ->
    [yes] , which the { $peer } acknowledged
   *[no] {""}
}{ $data ->
    [0] {""}
   *[other] ; after it the { $peer } still sent { $data } bytes of data
}
explain-reset-before = Before the RST, { $first }. Then the { $who } sent an RST.
explain-reset-before-two = Before the RST, { $first }; { $then }. Then the { $who } sent an RST.
explain-rst-unread = The { $who }'s TCP acknowledged the { $peer }'s { $bytes } bytes (at { $at } ms) after its own FIN, so its FIN was a half-close (shutdown() for writing) and the socket still took data: after a full close(), Linux would have answered them with RST at once. Its application closed the socket { $ms } ms after they arrived, and a socket closed with received data still unread sends RST, not FIN (RFC 9293 §3.6.1, SHLD-3, from RFC 1122 §4.2.2.13), as does one closed with SO_LINGER set to 0.
explain-rst-after-close = The { $peer }'s { $bytes } bytes reached the { $who } after its application had closed its side, and nothing acknowledged them: a TCP whose application has closed answers new data with RST (RFC 9293 §3.6.1, SHLD-3), to show the data was lost.
explain-reset-no-fin = The { $who } sent an RST, not a FIN: no TIME-WAIT; both ends went straight to CLOSED.
explain-reset-abort-or-unread = An abort sends RST (RFC 9293 §3.10.5; on Linux, close() with SO_LINGER 0), and so does a close with received data unread (§3.6.1): the { $who } had received { $bytes } bytes, so both are possible.
explain-reset-abort = The { $who } had received no data, so none was left unread: its application aborted (RFC 9293 §3.10.5; on Linux, close() with SO_LINGER 0).
explain-reset-closed = Both ends went to CLOSED at once: no TIME-WAIT.

## A refused connection ($acks: the RST acknowledges the SYN).
explain-refused-rst = The SYN was answered by RST-ACK (seq={ $seq }, ack={ $ack }{ $acks ->
    [yes] : it acknowledges the SYN
   *[no] {""}
}), so there was no handshake and no connection: the server side was CLOSED throughout. Most likely nothing listened on the server's port (a firewall rule that rejects with RST sends the same).
explain-refused = The SYN was answered by RST-ACK, so there was no handshake and no connection: the server side was CLOSED throughout. Most likely nothing listened on the server's port (a firewall rule that rejects with RST sends the same).

## The socket calls ($call: the call as written, close() or shutdown(SHUT_WR); $what: FIN or RST).
explain-call-closed = The { $who } called { $call }; its { $what } left { $ms } ms later.
explain-call-accepted = The server's accept() returned it { $ms } ms after the handshake completed ({ $basis ->
    [kernel] the kernel made the server's socket ESTABLISHED
   *[wire] the handshake's third ACK
}): the connection waited in the accept queue until the server's program took it.
explain-call-coalesced = One recv() of the { $who } returned { $n } bytes that arrived in { $parts } segments: TCP is a byte stream, message boundaries are the program's job.
explain-call-eof = The { $who }'s recv() returned 0, { $ms } ms after the { $peer }'s FIN arrived{ $rule ->
    [all] , once its recv() calls had returned all { $sent } { $sent ->
        [1] byte
       *[other] bytes
    } the { $peer } sent before that FIN
    [none] {" "}(the { $peer } had sent no bytes before it)
    [short] {""}
   *[rule] {" "}(recv() returns 0 only once every byte before the FIN has been read)
}: this is how the { $who }'s program learns of the { $peer }'s FIN.
explain-call-short-read = Its recv() calls had returned only { $read } of the { $sent } { $sent ->
    [1] byte
   *[other] bytes
} the { $peer } sent before that FIN, though the { $who } acknowledged { $sent ->
    [1] that byte
   *[other] all { $sent }
} (ack={ $ack }): { $sent ->
    [1] it never reached the { $who }'s program
   *[other] { $missing } { $missing ->
        [1] byte
       *[other] bytes
    } never reached the { $who }'s program
}.

## An ICMP error about a segment ($icmp: the error's key, $v6: ICMPv6,
## $kind, $code: its type and code, $from: its sender's address, $itself:
## whether that is the peer's own address, $seq, $mtu).
explain-icmp-name = { $icmp ->
    [network-unreachable] network unreachable
    [no-route-to-destination] no route to destination
    [host-unreachable] host unreachable
    [protocol-unreachable] protocol unreachable
    [port-unreachable] port unreachable
    [fragmentation-needed] fragmentation needed
    [communication-administratively-prohibited] communication administratively prohibited
    [destination-unreachable] destination unreachable
    [packet-too-big] packet too big
    [fragment-reassembly-time-exceeded] fragment reassembly time exceeded
    [time-to-live-exceeded-in-transit] time to live exceeded in transit
    [parameter-problem] parameter problem
    [source-quench] source quench
   *[error] error
}
explain-icmp-head = ICMP{ $v6 ->
    [yes] v6
   *[no] {""}
} "{ explain-icmp-name }" (type { $kind }, code { $code }) came from { $from } { $ms } ms after the connection began, about the { $who }'s segment seq={ $seq }
explain-icmp-who = { $itself ->
    [yes] the { $peer } itself
   *[no] { $from }
}
explain-icmp-frag = { explain-icmp-head }: { explain-icmp-who } could not forward it without fragmenting it and asked for packets of at most { $mtu } bytes. This is Path MTU discovery (RFC 1191): the { $who } must send smaller segments on this path.
explain-icmp-too-big = { explain-icmp-head }: { explain-icmp-who } could not forward it, as it is larger than the next link's MTU of { $mtu } bytes. This is Path MTU discovery (RFC 8201): the { $who } must send smaller segments on this path.
explain-icmp-ttl = { explain-icmp-head }: its time to live ran out at { explain-icmp-who } before it reached the { $peer }: a routing loop, or a traceroute.
explain-icmp-unreachable = { explain-icmp-head }: { explain-icmp-who } reports that it could not be delivered to the { $peer }.
explain-icmp-param = { explain-icmp-head }: { explain-icmp-who } found a header field it could not process.
explain-icmp-quench = { explain-icmp-head }: { explain-icmp-who } asked the { $who } to slow down (source quench, deprecated by RFC 6633).
explain-icmp-other = { explain-icmp-head }.

## A UDP flow's verdict, one sentence without its full stop ($n datagrams,
## $way: one (all one way), both ($a to the server, $b back) or none;
## $tail: icmp ($from sent $icmp about the datagram to $to), port (the
## same, a port unreachable), silent (no reply) or none).
explain-udp = { $n } { $n ->
    [1] datagram
   *[other] datagrams
}{ $way ->
    [one] , all one way
    [both] {" "}({ $a } to the server, { $b } back)
   *[none] {""}
}, no handshake, no close{ $tail ->
    [icmp] ; { $from } sent ICMP { explain-icmp-name } about the datagram to { $to }
    [port] ; { $from } sent ICMP { explain-icmp-name } about the datagram to { $to } (most likely nothing listened on that port, or a firewall rejected it; TCP would have answered RST)
    [silent] ; no reply came, and UDP does not resend a lost datagram
   *[none] {""}
}
## A UDP flow's verdict as a sentence ($verdict: explain-udp).
explain-udp-sentence = { $verdict }.

## What one segment does (explain::explain, the dashboard's panel).
## $bytes: explain-seg-bytes; $row: a row of the ladder, from 1.
explain-seg-bytes = { $len } bytes, bytes { $seq } to { $last } of its stream (seq={ $seq }, len={ $len })
explain-seg-syn-again = The client sends its SYN again: no answer had come.
explain-seg-step1 = Handshake step 1: the { $who } asks to open a connection and announces its initial sequence number (shown as 0). A SYN takes one sequence number.
explain-seg-syn-not-taken = The server did not take this SYN: it answered nothing, and the client sent it again { $ms } ms later, so the server stayed in LISTEN.
explain-seg-fin-ack-lost = The { $who } acknowledges the { $peer }'s FIN (ack={ $ack }), but this ACK did not reach the { $peer }: it stayed in { $state }, as the FIN it sent again shows.
explain-seg-dropped-on-host = Both ends are on one host, so it was dropped on the host, not lost on a link: by a firewall rule, for instance.
explain-seg-data-acks-syn-ack = The client sends { $bytes }{ $again ->
    [yes] {" "}again
   *[no] {""}
}, and with them acknowledges the server's SYN-ACK (ack={ $ack }).
explain-seg-acks-syn-ack = The client acknowledges the server's SYN-ACK (ack={ $ack }).
explain-seg-unsure = The server answered nothing: the client's data came again { $ms } ms later with no answer. The rows take it that the server did not take this segment and was still SYN-RECEIVED (a listener whose accept queue is full drops it); or a filter on the server's way in dropped only the data, after the capture saw it. The segments do not tell which.
explain-seg-still-syn-received = The server did not take this segment: it was still SYN-RECEIVED{ $shown ->
    [kernel] , as the kernel shows: it moved the server's socket to ESTABLISHED only at { $at } ms.
    [syn-ack] , as its SYN-ACK sent again { $ms } ms later shows (only a SYN-RECEIVED endpoint sends that).
    [data] , as the client's data sent again { $ms } ms later with no answer shows.
   *[none] {"."}
}
explain-seg-queue-full = Both ends are on one host, so it was dropped on the host: most likely, the accept queue was full.
explain-seg-lost-or-queue = It was lost on the way, or dropped by a server whose accept queue was full.
explain-seg-syn-ack-again = The server sends its SYN-ACK again: it is still in SYN-RECEIVED, so no segment of the client's that acknowledged the first one has been taken{ $note ->
    [dropped] {" "}(they were dropped)
    [lost] {" "}(they were lost or dropped)
   *[none] {""}
}. Only an endpoint in SYN-RECEIVED sends its SYN-ACK again.
explain-seg-fin-again = The { $who } sends its FIN again: the ACK of it never reached it{ $lost ->
    [yes] {" "}(the { $peer }'s ACK at row { $row })
   *[no] {""}
}, so it is still in { $state }.
explain-seg-time-wait-will-answer = The { $peer } is in TIME-WAIT and still knows the connection: it will answer with the ACK again. That is what TIME-WAIT is for: a side that had gone to CLOSED would answer this FIN with RST.
explain-seg-syn-again-taken = The client sends its SYN again (a retransmission): no answer had come. The server takes this one: it is in SYN-RECEIVED from now on, and answers from there.
explain-seg-retransmission = The { $who } sends this sequence range again: a retransmission.
explain-seg-carries = It carries { $bytes }.
explain-seg-not-a-step = It does not count as a new step.
explain-seg-rst-refused = RST-ACK in answer to a SYN: the connection is refused. Most likely nothing listens on that port (a firewall rule that rejects with RST sends the same). There was never a handshake.
explain-seg-rst-after-close = An RST from the { $who } after the close had finished: the connection was already over, so it changes nothing but the socket that receives it.
explain-seg-rst-in-close = RST from the { $who }: it ends the connection in the middle of its close. Both ends drop it at once (CLOSED): no TIME-WAIT.
explain-seg-rst-abort = RST from the { $who }: an abortive close. Both ends drop the connection at once (CLOSED), without FINs and without TIME-WAIT.
explain-seg-step1-refused = The answer will be an RST: most likely nothing listens on the server's port.
explain-seg-step1-taken = The { $peer } takes it as it arrives: it is in SYN-RECEIVED from now on, and answers from there.
explain-seg-step1-again = This SYN is the client's earlier one sent again (a retransmission): the server took this one.
explain-seg-step2 = Handshake step 2: the { $who } acknowledges the SYN (ack=1) and sends its own SYN in the same segment. That is why opening takes three segments, not four: the server has nothing to wait for.
explain-seg-step3-as-taken = Handshake step 3, as the rows take it: the client sends { $bytes } again, and this time the server takes them (ack={ $ack }).
explain-seg-step3-data-again = Handshake step 3: the client sends { $bytes } again, and this time the server takes them, and with them the ACK of its SYN-ACK (ack={ $ack }).
explain-seg-step3 = Handshake step 3: the client acknowledges the server's SYN (ack={ $ack }).
explain-seg-established = Both sides now know each other's sequence numbers: ESTABLISHED.
explain-seg-step3-unanswered = The server had answered none of the client's { $n ->
    [one] { $n } segment
   *[other] { $n } segments
} before it, the first { $ms } ms earlier (whether it had taken the ACK, the segments do not tell).
explain-seg-step3-not-taken = The server had not taken the client's { $n ->
    [one] { $n } segment
   *[other] { $n } segments
} before it: it stayed in SYN-RECEIVED { $ms } ms after the first.
explain-seg-fin-crossing = The { $who } closes its direction (FIN). The { $peer } sends its own FIN before this one reaches it: the two FINs cross on the wire (a simultaneous close).
explain-seg-fin-first = The { $who } has nothing more to send and closes its direction (FIN, seq={ $seq }). A FIN takes one sequence number: its ACK will say ack={ $ack }. The { $peer } may still send data: closing is done per direction, which is why it can take four segments.
explain-seg-fin-ack-data = This segment carries the { $who }'s last { $len } bytes, its FIN and the ACK of the { $peer }'s FIN (ack={ $ack }): data, FIN and ACK in one segment, so the close takes three segments.
explain-seg-fin-ack = This FIN-ACK carries the ACK of the { $peer }'s FIN (ack={ $ack }), so the close takes three segments: the { $who }'s ACK and its FIN travel together.
explain-seg-fin-ack-delack = The { $who }'s application closed { $ms } ms after the { $peer }'s FIN arrived, before the ACK it held back was due (Linux delays the ACK of a FIN by at least { $delack } ms).
explain-seg-fin-via = The { $who } sends its FIN from { $from } ({ $via }) before the { $peer }'s FIN has reached it: the FINs cross. This FIN does not acknowledge the { $peer }'s (ack={ $ack }), so each side receives a FIN that does not acknowledge its own: the { $peer } goes to { $p_after }, and the { $who } goes to { $w_after } when the { $peer }'s FIN arrives.
explain-seg-fin-second = The { $who } closes its direction too{ $after ->
    [yes] , { $ms } ms after the segment that acknowledged the { $peer }'s FIN
   *[no] {""}
}: its ACK and its FIN left apart, the four-way close. The { $who } goes { $from } -> { $to }.
explain-seg-time-wait-answers = The { $who } answers the { $peer }'s FIN again from TIME-WAIT, with the ACK the { $peer } missed (ack={ $ack }): the { $peer } goes { $from } -> { $to }, and the { $who } starts its 2 x MSL wait again (RFC 9293 §3.10.7.4). This is what TIME-WAIT is for.
explain-seg-after-close = A segment from the { $who } after the close had finished (both FINs acknowledged): it changes no state.
explain-seg-data = The { $who } sends { $bytes }.
explain-seg-data-acked = The { $peer } acknowledges them with ack={ $ack } (row { $row }): ack = seq + len, the next byte it expects.
explain-seg-data-acked-past = The { $peer } acknowledges them with ack={ $ack } (row { $row }), past seq + len = { $next }: that ACK covers what followed them too.
explain-seg-half-close = The { $peer } has closed its direction, but the { $who } may still send: a half-close.
explain-seg-ack-covers = An ACK from the { $who }: ack={ $ack } = { $seq } + { $len } (the seq and len of the { $peer }'s data at row { $row }), the next byte it expects: it has bytes up to { $upto }.
explain-seg-ack = An ACK from the { $who }: ack={ $ack }, the next byte it expects.
explain-seg-fin-acked-with-data = The { $who } sends { $bytes }, and with them acknowledges the { $peer }'s FIN (ack={ $ack }), { $ms } ms after it: the ACK rides on the data.
explain-seg-not-closed-half-close = The { $who } has not closed its side: a half-close.
explain-seg-goes = The { $who } goes { $from } -> { $to }.
explain-seg-fin-acked-alone = The { $who } acknowledges the { $peer }'s FIN on its own (ack={ $ack }), { $ms } ms after it: it has not closed its side yet (it may still have data), so its own FIN comes in a segment of its own.
explain-seg-close-wait-only-now = The { $who } enters CLOSE-WAIT only now: { $hole }.
explain-seg-delack-fired = This ACK went out when the { $who }'s delayed-ACK timer fired (Linux waits at least { $delack } ms).
explain-seg-fin-acked = The { $who } acknowledges the { $peer }'s FIN (ack={ $ack }): the { $peer } goes { $from } -> { $to }.
explain-seg-last-segment = This is the last segment of the close. The { $who }, which closed first, now waits in TIME-WAIT (2 x MSL; Linux: 60 s) in case this ACK is lost and the FIN comes again.
explain-seg-both-time-wait = Both ends are now in TIME-WAIT: each sent its FIN before it received the other's (FIN-WAIT-1, not CLOSE-WAIT), and a side that does that waits in TIME-WAIT.
explain-seg-still-closing = The { $who } still waits in CLOSING for the ACK of its own FIN.

# rows: ids rows-*. The words on a ladder's rows and around them (notes,
# kernel lines, socket calls, headers), in the text, Mermaid and SVG exports.
# Arguments: $role is "client" or "server"; $n, $step, $row whole numbers;
# $ms a time already formatted ("0.040"), the unit is in the message.

## Step notes, after the server's state column.

rows-handshake = handshake { $step }/3
rows-refused = refused { $step }/2
rows-reset = reset
rows-retransmission = retransmission
rows-retransmission-handshake = retransmission, handshake 3/3
# $kind: four, three (the second FIN also acknowledged the first) or simultaneous; $steps "1" or "2+3".
rows-teardown = teardown { $steps }/{ $total }
rows-teardown-late = teardown (begun before the capture)
rows-after-close = after the close
rows-after-close-time-wait = ACK again, from TIME-WAIT
rows-dropped = dropped
rows-lost-or-dropped = lost or dropped
# A step's note and, after it, why its receiver did not take it.
rows-not-taken = { $step } ({ $what })
rows-elided = ⋯ { $n } segments not kept before this one ⋯
rows-fins-cross = ✕ FINs cross
rows-icmp-errors = { $n ->
    [one] ⚠ ICMP error
   *[other] ⚠ ICMP errors
}

## Headers and endpoints.

rows-endpoint = { $role ->
    [client] client
   *[server] server
} { $addr }
rows-role = { $role ->
    [client] client
   *[server] server
}
rows-carried-in = carried in { $encap }
# $kind: the close's name as jsonl writes it (four-way, three-way, ...).
rows-close-kind = { $kind }

## Lines between the rows of a text ladder.

rows-call-at = at { $ms } ms
rows-kernel = { $mark } kernel { $role ->
    [client] client
   *[server] server
} { $from } → { $to } at { $ms } ms
rows-kernel-handover = {"  "}(the kernel's CLOSED: a mini-socket took over, in { $state })
rows-kernel-born-late = {"  "}(the server's new socket, made when the handshake completed; the listener stays in LISTEN, and the request socket that answered the SYN reports no change)
rows-kernel-wire-elsewhere = ✗ the wire shows it on row { $row }, at another time
rows-kernel-wire-none = ✗ the wire does not show this
rows-kernel-summary = kernel: { $agreed } of { $n } transitions agreed
# $all: both, all (every one agreed) or some.
rows-kernel-summary-missing = kernel: { $n } { $n ->
    [one] transition
   *[other] transitions
} shown, { $all ->
    [both] both
    [all] all
   *[some] { $agreed }
} agreed; { $missing } the wire shows { $missing ->
    [one] has
   *[other] have
} no kernel transition beside { $missing ->
    [one] it
   *[other] them
}
# $v6 is "v6" or ""; $mtu 0 when the error names none.
rows-icmp = ⚠ ICMP{ $v6 } { $name } from { $from } at { $ms } ms{ $mtu ->
    [0] {""}
   *[other] , mtu { $mtu }
}
# $name: the error in English words, $key the same with hyphens.
rows-icmp-name = { $name }

## --diagram: each endpoint's path through RFC 9293's figure 5.

rows-path-title = path through RFC 9293's state diagram (figure 5):
rows-path-row = row { $row }
rows-ack-of-fin = { $fin ->
    [yes] {" "}(the ACK: row { $row }, with its FIN)
   *[no] {" "}(the ACK: row { $row })
}
rows-not-an-arrow = (not an arrow of the figure: { $why })
# Why a transition is not an arrow of figure 5: $why in English, $key which one.
rows-off-arrow = { $why }
rows-fig-title = RFC 9293 state diagram: client's path { $blue }, server's { $orange }
rows-fig-blue = blue (C)
rows-fig-orange = orange (S)
rows-fig-legend = (the figure abbreviates: SYN-RCVD is SYN-RECEIVED, ESTAB is ESTABLISHED)
# What each state is called in the language's textbooks (empty in English: the names say it).
rows-fig-gloss = {""}

## Mermaid and SVG.

rows-mermaid-title = #{ $id } { $client } → { $server } (close: { $kind })
rows-mermaid-heading = #{ $id } { $client } → { $server } ({ $kind })
rows-mermaid-many = synack: one Mermaid diagram per connection
rows-svg-title = #{ $id } client { $client } ⇄ server { $server } · close: { $kind }

## UDP flows.

rows-udp-heading = UDP flow { $id }  { $client } <-> { $server }
rows-udp-not-kept = ... { $n } datagrams not kept ...
rows-udp-icmp = ICMP { $name } (from { $from })
rows-udp-no-state = UDP keeps no connection state on the wire: nothing to open, nothing to close
rows-udp-mermaid-title = UDP flow { $id } { $client } ↔ { $server }
rows-udp-svg-title = UDP flow { $id }  client { $client } ⇄ server { $server }

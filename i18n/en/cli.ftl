# cli: ids cli-*. What the command line prints on stderr outside the
# dashboard: errors, privilege hints, trace's summaries. English is
# byte-identical to what synack printed before it had languages.

## The line of an error, and the parts of a chain.
cli-error = error: { $message }
cli-chain-gap = {": "}

## Rust's and the OS's own words, said again in the language (English: as
## they are, so these are never used in English).
cli-io-not-found = No such file or directory
cli-io-permission = Permission denied
cli-io-addr-in-use = Address already in use
cli-io-not-permitted = Operation not permitted
cli-io-no-space = No space left on device
cli-io-no-device = No such device
cli-io-is-a-directory = Is a directory
cli-io-os-error = { $text } (os error { $code })

## clap's errors (English: clap prints its own).
cli-clap-invalid-value = invalid value '{ $value }' for '{ $arg }': { $cause }
cli-clap-invalid-digit = invalid digit found in string
cli-clap-empty = cannot parse integer from empty string
cli-clap-too-large = number too large to fit in target type
cli-clap-range = { $value } is not in { $range }
cli-clap-unknown = unexpected argument '{ $arg }' found
cli-bad-lang = '{ $value }' is not a language synack speaks: en (English) or zh (中文)
cli-clap-more = For more information, try '--help'.

## Opening and writing files.
cli-cannot-open = cannot open { $path }
cli-cannot-read = cannot read { $path }
cli-cannot-create = cannot create { $path }
cli-cannot-read-stdin = cannot read standard input
cli-stdin = standard input
cli-cannot-write-manpage = cannot write the manual page
cli-cannot-handle-signals = cannot handle stop signals
cli-cannot-finish-recording = cannot finish the recording { $path }
cli-refuse-output = refusing to write the output to { $path }: it is the { $what ->
    [input] input (--read)
   *[recording] recording (--write)
}
cli-refuse-record = refusing to record over { $path }: it exists

## A capture file that stops early: where it broke.
cli-source-empty = { $name } is empty
cli-source-not-capture = { $name } is not a pcap or pcapng capture (it starts with bytes { $found })
cli-source-truncated = { $name } is truncated after packet { $packets } (byte offset { $offset })
cli-source-corrupt = { $name } is corrupt after packet { $packets } (byte offset { $offset }): { $what }
cli-source-io = cannot read { $name }

cli-cannot-record = cannot record the capture
cli-cannot-write-output = cannot write the output
cli-record-too-long = a record longer than { $max } bytes

## Usage.
cli-diagram-format = --diagram goes with --format text or svg
cli-kernel-needs-live = --kernel on needs a live capture: a replay holds only the wire
cli-write-with-read = --write records a live capture; it cannot be used with --read
cli-bad-duration = --duration must be a number of seconds, not { $value }
cli-bad-speed = --speed must be 0 or more, not { $value }
cli-bad-repeat = --repeat and --concurrency must be at least 1
cli-no-connection = there is no connection #{ $id }: { $held }
cli-holds-none = it holds no connection
cli-holds-one = it holds #1 only
cli-holds-range = it holds #1 to #{ $n }
cli-demo-port-busy = the demo runs its own echo server, but { $addr } is already in use; pick another port with --port

## Privileges, said before the terminal is touched.
cli-open-permission = capturing on { $interface } needs the CAP_NET_RAW capability ({ $cause })
cli-open-no-interface = there is no network interface named { $name } (available: { $available })
cli-open-other = cannot capture on { $interface }
cli-run-as-root = run it as root:    sudo { $exe } { $args }
cli-allow-once = or allow it once:  sudo setcap cap_net_raw+ep { $exe }
cli-refuse-root = { $error }; refusing to run with root privileges
cli-cannot-drop = cannot give up privileges after opening the capture
cli-priv-bad-id = { $name }={ $value } is not a user or group id (a decimal number below 4294967295)
cli-priv-missing-gid = SUDO_UID is set but SUDO_GID is not: cannot tell which group to drop to
cli-priv-missing-uid = SUDO_GID is set but SUDO_UID is not: cannot tell which user to drop to
cli-priv-switch = cannot become uid { $uid } / gid { $gid }: { $cause }
cli-priv-capabilities = cannot clear the capability sets: { $cause }

## The kernel view.
cli-kernel-on = --kernel on: { $error }
cli-kernel-off = kernel view off: { $error }
cli-no-tracefs = tracefs is not mounted and could not be mounted at /sys/kernel/tracing ({ $cause }); as root: mount -t tracefs nodev /sys/kernel/tracing
cli-no-tracepoint = the tracepoint sock:inet_sock_set_state is missing or unreadable ({ $cause })
cli-tracepoint-refused = not permitted ({ $cause }; { $detail }): the kernel view (and with it the socket calls of other programs) needs root, or CAP_PERFMON with tracefs readable
cli-tracefs-root-only = { $root } is readable by root only
cli-calls-off = socket calls of other programs are off: { $error }
cli-kernel-before-none = kernel view: no socket on port { $port } before the capture
cli-kernel-before = kernel view: on port { $port } before the capture: { $states }

## Live trace's lines.
cli-capturing = synack: capturing on { $interface }, tcp and udp port { $port } (Ctrl-C to stop)
cli-said = synack: { $line }
cli-pcap-no-kernel = synack: a .pcap recording cannot hold the kernel view's changes; write a .pcapng to keep them
cli-captured = synack: { $frames } frames captured, { $drops } dropped by the kernel, { $written } { $written ->
    [one] connection
   *[other] connections
} written{ $flows }
cli-udp-flows = , { $n } UDP { $n ->
    [one] flow
   *[other] flows
} written
cli-kernel-summary = synack: kernel view: { $changes } state changes, { $lost } lost by the kernel's rings, { $unmatched } not matched to a connection
cli-recorded = synack: recorded { $frames } frames to { $path }

## What did not decode (a file's or a capture's summary).
cli-undecoded = { $total } { $total ->
    [one] frame
   *[other] frames
} could not be decoded: { $kinds }
cli-not-decoded = { $total } { $total ->
    [one] frame
   *[other] frames
} not decoded: { $kinds }
cli-decode-truncated-link = truncated link-layer header
cli-decode-bad-ip-version = bad IP version
cli-decode-truncated-ipv4 = truncated IPv4 header
cli-decode-bad-ipv4-header-length = bad IPv4 header length
cli-decode-bad-ipv4-total-length = bad IPv4 total length
cli-decode-ipv4-fragment = IPv4 fragment
cli-decode-truncated-ipv6 = truncated IPv6 header
cli-decode-bad-ipv6-extension = bad IPv6 extension header
cli-decode-ipv6-fragment = IPv6 fragment
cli-decode-truncated-tcp = truncated TCP header
cli-decode-bad-tcp-data-offset = bad TCP data offset
cli-decode-in = in { $what }
cli-decode-count = { $n } { $kind }
cli-undecoded-link-type = link type { $n }
cli-undecoded-ethertype = ethertype { $t }
cli-undecoded-gre = GRE protocol { $t }
cli-undecoded-gtp-c = GTP-C (signalling)
cli-undecoded-esp = IPsec ESP (encrypted)
cli-undecoded-macsec = MACsec (encrypted)
cli-undecoded-80211 = protected 802.11 frames (encrypted)
cli-undecoded-mpls = MPLS with a payload that is not IP
cli-undecoded-too-deep = more than 16 nested layers
cli-undecoded-arcnet = ARCNET fragments
cli-kinds-gap = {", "}
cli-fragments = { $n } IP { $n ->
    [one] fragment
   *[other] fragments
} of datagrams that never completed, not decoded
cli-bad-calls = { $n } socket-call { $n ->
    [one] record
   *[other] records
} of the recording malformed, skipped (its segments are all read)
cli-calls-dropped = { $n } socket { $n ->
    [one] call
   *[other] calls
} of the recording dropped: more than { $held } between two frames

## synack serve and client.
cli-serve-exposed = synack: warning: { $addr } is reachable from beyond this machine; the echo server is a teaching aid (it answers anyone and obeys their steering commands): prefer 127.0.0.1
cli-serve-listening = synack: echo server listening on { $addr } (Ctrl-C to stop)
cli-serve-udp = synack: answering UDP on { $addr } too (recvfrom, sendto; at most { $rate } replies a second)
cli-serve-udp-taken = synack: UDP { $addr } is taken: the udp scenario will get no reply
cli-serve-stopped = synack: echo server stopped
cli-client-failed = { $failed } of { $repeat } connections to { $addr } failed: { $error }
cli-client-hint = {" "}(is 'synack serve' running?)
cli-client-reply = { $name }: reply { $reply }{ $retries }
cli-client-refused = { $name }: connection refused, as intended
cli-client-unreachable = { $name }: sent { $sent } bytes to { $to } (send succeeded: UDP cannot know whether anyone listens); nothing listens there, its ICMP port unreachable came back and the next recv failed with ECONNREFUSED, as intended
cli-client-load = { $name }: { $ok } connections to { $addr } in { $secs } s ({ $rate }/s), { $failed } failed{ $retries }
cli-client-at-once = {" "}({ $n } more { $n ->
    [one] connection
   *[other] connections
} at once)
cli-client-retried = {" "}({ $n } more { $n ->
    [one] connection
   *[other] connections
} closed without the FINs crossing)

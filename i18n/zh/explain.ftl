# explain: ids explain-*. 连接关闭方式的结论（verdict）及事实所说明的内容
# （src/model/explain.rs、src/model/explain/calls.rs）、ICMP 差错报文
# （explain::icmp）、UDP 流的结论（src/model/udp.rs）。参数见 i18n/en/explain.ftl。
# 用语：三次握手、四次挥手、三次挥手、半关闭、同时关闭、复位 RST、确认 ACK、
# 延迟确认、重传、半连接队列、全连接队列；状态名、标志位、套接字调用、数字、
# 地址保持原样。中文与拉丁字母、数字之间留一个空格，中文标点前后不留空格。

## 角色。
explain-who = { $who ->
    [client] 客户端
   *[server] 服务器
}
explain-peer = { $peer ->
    [client] 客户端
   *[server] 服务器
}

## 关闭方式（CloseKind::name）。
explain-close-kind = { $kind ->
    [four-way] 关闭方式：四次挥手。
    [three-way] 关闭方式：三次挥手。
    [simultaneous] 关闭方式：同时关闭。
    [reset] 关闭方式：复位 RST。
    [refused] 结果：连接被拒绝。
    [open] 结果：连接尚未关闭。
   *[begun-before-capture] 关闭方式：抓包开始前已在关闭。
}

## 尚未关闭，或关闭尚未完成。
explain-open-fin = { explain-who }发送了 FIN，但抓包结束时关闭过程还没有完成。
explain-open = 抓包结束时连接仍处于打开状态。
explain-data-after-fin = 第一个 FIN 之后仍有数据在传输（半关闭）。
explain-after-close = 关闭完成之后，又出现了 { $n } 个报文段。
explain-icmp-one = 有一个 ICMP 差错报文（{ explain-icmp-name }）返回，针对的是{ explain-who }发出的一个报文段。
explain-icmp-many = 共有 { $n } 个 ICMP 差错报文返回，针对的都是这条连接的报文段。

## 建立连接：SYN 被丢弃，第三个 ACK 被丢弃。
explain-syns-dropped = 服务器没有理会客户端的{ $n ->
    [1] 第一个 SYN
   *[other] 前 { $n } 个 SYN
}，直到第一个 SYN 发出 { $ms } ms 之后才作出应答。
explain-host-dropped = 两端在同一台主机上，不存在链路丢包，所以{ $n ->
    [1] 这个 SYN
   *[other] 这些 SYN
} 是在本机被丢弃的，最可能是被监听套接字丢弃。
explain-syn-drop = 在 Linux 上，监听套接字的全连接队列满时会丢弃 SYN；如果 net.ipv4.tcp_syncookies 为 0，半连接队列满时也会丢弃。
explain-syns-lost = { $n ->
    [1] 这个 SYN
   *[other] 这些 SYN
} 可能在途中丢失了，也可能因为监听套接字的队列已满而被丢弃。
explain-syn-again = 客户端又重传了 { $n } 次 SYN：一直没有收到应答。
explain-acks-dropped = 服务器{ $answered ->
    [none] 对客户端确认 SYN-ACK 的{ $n ->
        [1] 第一个报文段
       *[other] 前 { $n } 个报文段
    }没有作出任何应答
   *[not-taken] 没有接受客户端确认 SYN-ACK 的{ $n ->
        [1] 第一个报文段
       *[other] 前 { $n } 个报文段
    }
}{ $stayed ->
    [yes] ：它仍停留在 SYN-RECEIVED
   *[no] {""}
}{ $why ->
    [syn-ack] （它又重传了 { $k } 次 SYN-ACK，只有处于 SYN-RECEIVED 的一端才会这样做）。
    [data] （数据一直没有得到确认，客户端就重传了它）。
   *[none] 。
}
explain-syn-cookie = 在此后的 { $ms } ms 里，它没有重传 SYN-ACK；而为半连接（SYN-RECEIVED）保存了状态的服务器，1 秒后（初始重传超时，RFC 6298）就会重传。可见它没有为这条连接保存任何状态，这正是 SYN-ACK 携带 SYN Cookie（RFC 4987）时服务器的做法：连接是根据客户端完成握手的那个 ACK 重建的。图中仍显示 SYN-RECEIVED，因为 RFC 9293 规定已应答 SYN 的服务器处于这个状态。
explain-completed-as-taken = 图中把握手的完成时刻定为 { $at } ms，距客户端的第一个 ACK 已过去 { $ms } ms。
explain-completed = 握手在客户端第一个 ACK 之后 { $ms } ms 才完成（{ $at } ms 时）。
explain-never-completed = 握手始终没有完成。
explain-not-completed = 抓包结束时，握手还没有完成。
explain-kernel-established = 内核在 { $at } ms 时把服务器的套接字置为 ESTABLISHED。
explain-unsure = 仅凭这些报文段，无法判断服务器是否已经接受了客户端的 ACK：全连接队列已满的监听套接字会丢弃本应完成连接的 ACK 及其后的数据（除非 tcp_abort_on_overflow 让它回复 RST），图中按这种情况显示，在那之前一直是 SYN-RECEIVED。但也可能是服务器入方向的过滤规则（例如防火墙的 INPUT 规则）丢弃了报文段：这类规则在 lo 上的抓包之后才起作用，所以抓包照样能看到这些报文段；如果它只丢弃了数据，那么服务器从客户端的第一个 ACK 起就已经是 ESTABLISHED 了。
explain-third-ack-dropped = 两端在同一台主机上，所以第三次握手的 ACK 是在本机被丢弃的。在 Linux 上，最可能的原因是全连接队列已满：全连接队列满的监听套接字会丢弃本应完成连接的 ACK，除非 tcp_abort_on_overflow 让它回复 RST。如果是防火墙规则丢弃了这些报文段，抓包看到的也是同样的情形。
explain-queue-unseen = 队列的情况抓包是看不到的，要看 nstat 的 ListenOverflows 计数器，或 synack 的监听队列栏。
explain-third-ack-lost = 第三次握手的 ACK 在途中丢失了，或者因为服务器的全连接队列已满而被丢弃。

## TIME-WAIT 被新的 SYN 接管。
explain-reused = 这条连接的 SYN 复用了上一条连接的端口对（四元组），而上一条连接的{ explain-who }当时仍处于 TIME-WAIT（进入该状态才 { $ms } ms）。
explain-taken-over = { explain-who }的 TIME-WAIT 提前结束了，距开始仅 { $ms } ms：同一端口对上的一个新 SYN 开启了下一条连接。
explain-tw-reuse = { explain-who }又从自己原来的端口发起了连接：在 Linux 上，主动发起连接的套接字可以复用本端一个处于 TIME-WAIT 的连接（同一个四元组；net.ipv4.tcp_tw_reuse，只对发起连接的一方有效；默认值 2 表示仅在环回接口上允许），条件是时间戳表明它的报文段更新，并且距 TIME-WAIT 开始已过了一段时间（1 秒；从 Linux 6.14 起由 net.ipv4.tcp_tw_reuse_delay 设定）。如果程序用 bind() 指定了这个端口，还需要设置 SO_REUSEADDR；这一点从抓包中看不出来。
explain-tw-rule = RFC 9293 §3.6.1（MAY-2）允许处于 TIME-WAIT 的一端接受新的 SYN，前提是它为新连接选的初始序号大于它在上一条连接中用过的最大序号（如果这个 SYN 原来是旧的重复报文段，就回到 TIME-WAIT）。Linux 检查的则是收到的 SYN：它的序号必须超过{ explain-who }在上一条连接中已收到的序号，或者它的时间戳更新（RFC 6191）。
explain-tw-beyond = 这个 SYN 的序号超过了上次收到的序号。
explain-tw-newer = 这个 SYN 的序号没有超过上次收到的序号，它被接受是因为时间戳更新。

## 最后一个 ACK 丢失，以及 TIME-WAIT 的应答。
explain-last-ack-lost = { explain-peer }对{ explain-who } FIN 的确认 ACK（{ $at } ms 时发出）没有到达{ explain-who }：{ $ms } ms 后，{ explain-who }重传了 FIN。
explain-time-wait-answer = { explain-peer }处于 TIME-WAIT，仍保留着这条连接的状态，于是在 { $at } ms 时再次发出 ACK：这正是先关闭的一方要在 TIME-WAIT 等待、而不直接进入 CLOSED 的原因之一（另一个原因是让本连接的旧报文段都从网络中消失，同一个四元组才能再建立新连接）。如果{ explain-peer }已经不再保留这条连接（进入了 CLOSED），就会用 RST 回应这个 FIN。

## 抓包开始时连接已在关闭中（$client、$server 为状态）。
explain-joined-late = 抓包开始时连接已在关闭中：据内核记录，当时客户端处于 { $client }，服务器处于 { $server }（之前的报文段没有抓到）。
explain-joined-late-end = { $finished ->
    [yes] 从报文段看，关闭过程已经完成：客户端最终处于 { $client }，服务器处于 { $server }。
   *[no] 抓包结束时关闭还没有完成：客户端处于 { $client }，服务器处于 { $server }。
}

## 三次挥手与四次挥手（$who：后关闭的一方，$peer：先关闭的一方）。
explain-closed-first = { explain-who }先关闭（主动关闭）。
explain-three-way-data = { explain-who }在 { $ms } ms 后发出的下一个报文段，同时携带了它最后的 { $len } 字节数据、它的 FIN 和对{ explain-peer } FIN 的确认 ACK：数据、FIN 和 ACK 合在一个报文段里，所以四次挥手的第 2、3 步共用了这个报文段。
explain-three-way-fin = { explain-who }的 FIN 在{ explain-peer }的 FIN 之后 { $ms } ms 发出，同时确认了{ explain-peer }的 FIN：四次挥手的第 2、3 步合并成了一个报文段。
explain-three-way-delack = { explain-who }的 TCP 收到 FIN 后没有马上确认，而是推迟确认（Linux 至少等待 { $delack } ms，看有没有数据或 FIN 可以捎带这个 ACK）；{ explain-who }的应用程序在这段时间内就关闭了，于是它的 FIN 赶在单独的 ACK 之前发出了。
explain-fin-acked-with-data = { explain-who }在 { $ms } ms 后确认了{ explain-peer }的 FIN，这个 ACK 捎带在它接下来发送的 { $len } 字节数据上。
explain-fin-acked-hole = { explain-who }在 { $ms } ms 后用一个单独的报文段确认了{ explain-peer }的 FIN：{ $hole }。
explain-hole = 这个 FIN 到达时，它前面的数据还有缺口（{ explain-who }在 { $at } ms 发出的 ACK，确认号仍是 { $byte }），而 FIN 只能按序处理，所以要等前面的数据都到齐后才能处理它
explain-fin-acked-at-once = { explain-who }立即用一个单独的报文段确认了{ explain-peer }的 FIN（{ $ms } ms 后）。
explain-fin-acked-delack = { explain-who }在 { $ms } ms 后才用一个单独的报文段确认{ explain-peer }的 FIN：一直没有数据可以捎带这个 ACK，直到它的延迟确认计时器到期（Linux 至少等待 { $delack } ms）。
explain-fin-acked-alone = { explain-who }在 { $ms } ms 后用一个单独的报文段确认了{ explain-peer }的 FIN。
explain-second-fin-half-close = { explain-who }还有数据要发（在第一个 FIN 之后又发了 { $bytes } 字节，即半关闭），所以它自己的 FIN 到第一个 FIN 之后 { $ms } ms 才发出。两个方向各自关闭，一共四个报文段（FIN、ACK、FIN、ACK）。
explain-second-fin = { explain-who }自己的 FIN 在第一个 FIN 之后 { $ms } ms 才发出：两个方向分别关闭，依次是 FIN、ACK、FIN、ACK。

## 同时关闭（$client、$server：双方各自经过的状态，用 " -> " 连接；$same：两者相同时为 yes）。
explain-fins-crossed = 双方都在收到对方的 FIN 之前就发出了自己的 FIN：两个 FIN 在网络中交叉而过。
explain-went = { $same ->
    [yes] 双方的状态都依次为 { $client }。
   *[no] 客户端的状态依次为 { $client }。服务器的状态依次为 { $server }。
}
explain-both-time-wait = 双方最后都进入了 TIME-WAIT：双方都在收到对方的 FIN 之前发出了自己的 FIN（经过 FIN-WAIT-1，而不是 CLOSE-WAIT），凡这样的一方都要在 TIME-WAIT 等待。

## 复位（$first、$then：explain-reset-fact 分句；$data：字节数，0 表示没有）。
explain-reset-fact = { explain-who }发送了 FIN{ $acked ->
    [yes] ，{ explain-peer }确认了它
   *[no] {""}
}{ $data ->
    [0] {""}
   *[other] ；此后{ explain-peer }仍发送了 { $data } 字节数据
}
explain-reset-before = 在 RST 之前，{ $first }。随后{ explain-who }发送了 RST。
explain-reset-before-two = 在 RST 之前，{ $first }；{ $then }。随后{ explain-who }发送了 RST。
explain-rst-unread = { explain-who }的 TCP 在发出自己的 FIN 之后，仍确认了{ explain-peer }的 { $bytes } 字节（{ $at } ms 时），可见它的 FIN 是半关闭（shutdown() 关闭写方向），套接字仍在接收数据：如果调用的是完全关闭的 close()，Linux 会立即用 RST 回应这些数据。它的应用程序在数据到达 { $ms } ms 后关闭了套接字：套接字关闭时如果接收缓冲区里还有没读走的数据，TCP 发出的就是 RST 而不是 FIN（RFC 9293 §3.6.1，SHLD-3，源自 RFC 1122 §4.2.2.13）；开启 SO_LINGER 且超时设为 0 后再 close()，也是如此。
explain-rst-after-close = { explain-peer }的 { $bytes } 字节是在{ explain-who }的应用程序关闭套接字之后才到达的，也没有被确认：应用程序关闭套接字后，TCP 再收到新数据就会回复 RST（RFC 9293 §3.6.1，SHLD-3），表明这些数据丢失了。
explain-reset-no-fin = { explain-who }发送的是 RST 而不是 FIN，因此没有 TIME-WAIT，两端都直接进入 CLOSED。
explain-reset-abort-or-unread = 异常终止连接会发送 RST（RFC 9293 §3.10.5；在 Linux 上，例如开启 SO_LINGER 且超时设为 0 后调用 close()）；关闭时接收缓冲区里还有未读的数据，也会发送 RST（§3.6.1）。{ explain-who }此前收到过 { $bytes } 字节，所以两种情况都有可能。
explain-reset-abort = { explain-who }没有收到过数据，所以不存在未读数据：是它的应用程序异常终止了连接（RFC 9293 §3.10.5；在 Linux 上，例如开启 SO_LINGER 且超时设为 0 后调用 close()）。
explain-reset-closed = 两端都立即进入 CLOSED：没有 TIME-WAIT。

## 连接被拒绝（$acks：RST 确认了 SYN）。
explain-refused-rst = SYN 得到的应答是 RST-ACK（seq={ $seq }，ack={ $ack }{ $acks ->
    [yes] ：它确认了这个 SYN
   *[no] {""}
}），所以没有握手，也没有建立连接：服务器一方始终是 CLOSED。最可能的原因是服务器的这个端口上没有进程在监听（防火墙规则用 RST 拒绝连接时，发出的也是同样的报文段）。
explain-refused = SYN 得到的应答是 RST-ACK，所以没有握手，也没有建立连接：服务器一方始终是 CLOSED。最可能的原因是服务器的这个端口上没有进程在监听（防火墙规则用 RST 拒绝连接时，发出的也是同样的报文段）。

## 套接字调用（$call：close() 或 shutdown(SHUT_WR)；$what：FIN 或 RST）。
explain-call-closed = { explain-who }调用了 { $call }，{ $ms } ms 后发出了 { $what }。
explain-call-accepted = 握手完成（{ $basis ->
    [kernel] 以内核把服务器的套接字置为 ESTABLISHED 为准
   *[wire] 以第三次握手的 ACK 为准
}）{ $ms } ms 后，服务器的 accept() 才返回这条连接：连接在全连接队列中一直等到服务器程序把它取走。
explain-call-coalesced = { explain-who }的一次 recv() 返回了 { $n } 字节，它们是分 { $parts } 个报文段到达的：TCP 是面向字节流的，不保留消息边界，消息边界要由应用程序自己划分。
explain-call-eof = { explain-who }的 recv() 在{ explain-peer }的 FIN 到达 { $ms } ms 后返回 0{ $rule ->
    [all] ，此前它的 recv() 调用已读完{ explain-peer }在该 FIN 之前发送的全部 { $sent } 字节
    [none] （{ explain-peer }在此之前没有发送任何字节）
    [short] {""}
   *[rule] （只有 FIN 之前的每个字节都被读走后，recv() 才会返回 0）
}：{ explain-who }的程序正是这样得知{ explain-peer }已发送 FIN 的。
explain-call-short-read = 它的 recv() 调用只返回了{ explain-peer }在该 FIN 之前所发 { $sent } 字节中的 { $read } 字节，而{ explain-who }已经确认了{ $sent ->
    [1] 这个字节
   *[other] 全部 { $sent } 字节
}（ack={ $ack }）：{ $sent ->
    [1] 这个字节
   *[other] 有 { $missing } 字节
}始终没有到达{ explain-who }的程序。

## ICMP 差错报文。
explain-icmp-name = { $icmp ->
    [network-unreachable] 网络不可达
    [no-route-to-destination] 没有到终点的路由
    [host-unreachable] 主机不可达
    [protocol-unreachable] 协议不可达
    [port-unreachable] 端口不可达
    [fragmentation-needed] 需要分片
    [communication-administratively-prohibited] 通信被管理策略禁止
    [destination-unreachable] 终点不可达
    [packet-too-big] 分组太大
    [fragment-reassembly-time-exceeded] 分片重组超时
    [time-to-live-exceeded-in-transit] 时间超过（传输中 TTL 减为 0）
    [parameter-problem] 参数问题
    [source-quench] 源点抑制
   *[error] 差错
}
explain-icmp-head = 连接开始后 { $ms } ms，{ $from } 发来了 ICMP{ $v6 ->
    [yes] v6
   *[no] {""}
} 差错报文“{ explain-icmp-name }”（类型 { $kind }，代码 { $code }），针对的是{ explain-who }的报文段 seq={ $seq }
explain-icmp-who = { $itself ->
    [yes] { explain-peer }本身
   *[no] 地址为 { $from } 的主机
}
explain-icmp-frag = { explain-icmp-head }：{ explain-icmp-who }不分片就无法转发它，要求分组不超过 { $mtu } 字节。这就是路径 MTU 发现（RFC 1191）：{ explain-who }在这条路径上必须发送更小的报文段。
explain-icmp-too-big = { explain-icmp-head }：{ explain-icmp-who }无法转发它，因为它超过了下一段链路的 MTU（{ $mtu } 字节）。这就是路径 MTU 发现（RFC 8201）：{ explain-who }在这条路径上必须发送更小的报文段。
explain-icmp-ttl = { explain-icmp-head }：它还没到达{ explain-peer }，TTL 就在{ explain-icmp-who }处耗尽了：可能存在路由环路，也可能是有人在运行 traceroute。
explain-icmp-unreachable = { explain-icmp-head }：{ explain-icmp-who }报告这个报文段无法交付给{ explain-peer }。
explain-icmp-param = { explain-icmp-head }：{ explain-icmp-who }发现了一个无法处理的首部字段。
explain-icmp-quench = { explain-icmp-head }：{ explain-icmp-who }要求{ explain-who }降低发送速率（源点抑制，已被 RFC 6633 废弃）。
explain-icmp-other = { explain-icmp-head }。

## UDP 流的结论，一句话，不带句号。
explain-udp = 共 { $n } 个数据报{ $way ->
    [one] ，只有单向传输
    [both] （{ $a } 个发往服务器，{ $b } 个返回）
   *[none] {""}
}，没有握手，也没有关闭{ $tail ->
    [icmp] ；{ $from } 针对发往 { $to } 的数据报发回了 ICMP“{ explain-icmp-name }”
    [port] ；{ $from } 针对发往 { $to } 的数据报发回了 ICMP“{ explain-icmp-name }”（最可能是那个端口上没有进程在监听，或者被防火墙拒绝了；换成 TCP 会回复 RST）
    [silent] ；没有收到任何回复，而 UDP 不会重传丢失的数据报
   *[none] {""}
}
## UDP 流的结论，作为完整的一句话。
explain-udp-sentence = { $verdict }。

## 一个报文段的作用（explain::explain，仪表盘的说明栏）。
## $bytes：explain-seg-bytes；$row：梯形图的行号，从 1 起。
explain-seg-bytes = { $len } 字节，即它字节流中的第 { $seq } 到第 { $last } 字节（seq={ $seq }，len={ $len }）
explain-seg-syn-again = 客户端重传 SYN：一直没有收到应答。
explain-seg-step1 = 三次握手第 1 步：{ explain-who }请求建立连接，并告知自己的初始序号（显示为 0）。SYN 要消耗一个序号。
explain-seg-syn-not-taken = 服务器没有接受这个 SYN：它没有任何应答，{ $ms } ms 后客户端重传了 SYN，所以服务器仍处于 LISTEN。
explain-seg-fin-ack-lost = { explain-who }确认{ explain-peer }的 FIN（ack={ $ack }），但这个 ACK 没有到达{ explain-peer }：从{ explain-peer }重传的 FIN 可以看出，它仍处于 { $state }。
explain-seg-dropped-on-host = 两端在同一台主机上，所以它是在本机被丢弃的，而不是在链路上丢失的：例如被防火墙规则丢弃。
explain-seg-data-acks-syn-ack = 客户端{ $again ->
    [yes] 重传
   *[no] 发送
} { $bytes }，同时确认服务器的 SYN-ACK（ack={ $ack }）。
explain-seg-acks-syn-ack = 客户端确认服务器的 SYN-ACK（ack={ $ack }）。
explain-seg-unsure = 服务器没有任何应答：{ $ms } ms 后客户端重传了数据，仍然没有应答。图中按服务器没有接受这个报文段来画，即服务器仍处于 SYN-RECEIVED（全连接队列满的监听套接字会丢弃它）；也可能是服务器入方向的过滤规则在抓包之后只丢弃了数据。仅凭这些报文段，无法判断是哪一种。
explain-seg-still-syn-received = 服务器没有接受这个报文段：它仍处于 SYN-RECEIVED{ $shown ->
    [kernel] ，内核的记录可以证明：直到 { $at } ms 它才把服务器的套接字置为 ESTABLISHED。
    [syn-ack] ，{ $ms } ms 后它重传的 SYN-ACK 可以证明（只有处于 SYN-RECEIVED 的一端才会重传 SYN-ACK）。
    [data] ，{ $ms } ms 后客户端重传数据仍没有得到应答，可以证明这一点。
   *[none] 。
}
explain-seg-queue-full = 两端在同一台主机上，所以它是在本机被丢弃的：最可能是全连接队列满了。
explain-seg-lost-or-queue = 它在途中丢失了，或者因为服务器的全连接队列已满而被丢弃。
explain-seg-syn-ack-again = 服务器重传 SYN-ACK：它仍处于 SYN-RECEIVED，说明客户端确认第一个 SYN-ACK 的报文段都没有被接受{ $note ->
    [dropped] （它们被丢弃了）
    [lost] （它们丢失了或被丢弃了）
   *[none] {""}
}。只有处于 SYN-RECEIVED 的一端才会重传 SYN-ACK。
explain-seg-fin-again = { explain-who }重传 FIN：它一直没有收到对这个 FIN 的确认{ $lost ->
    [yes] （{ explain-peer }在第 { $row } 行发出的 ACK 没有到达）
   *[no] {""}
}，所以仍处于 { $state }。
explain-seg-time-wait-will-answer = { explain-peer }处于 TIME-WAIT，仍保留着这条连接的状态：它会再次回复 ACK。这正是 TIME-WAIT 的作用：如果它已经进入 CLOSED，就会用 RST 回应这个 FIN。
explain-seg-syn-again-taken = 客户端重传 SYN：一直没有收到应答。服务器接受了这个重传的 SYN，进入 SYN-RECEIVED，并在这个状态下发出应答。
explain-seg-retransmission = { explain-who }再次发送这段序号范围的数据：这是一次重传。
explain-seg-carries = 它携带了 { $bytes }。
explain-seg-not-a-step = 重传不算新的一步。
explain-seg-rst-refused = 用 RST-ACK 回应 SYN：连接被拒绝。最可能是那个端口上没有进程在监听（防火墙规则用 RST 拒绝连接时，发出的也是同样的报文段）。根本没有进行握手。
explain-seg-rst-after-close = 关闭完成后{ explain-who }发来的 RST：连接早已结束，它只会影响收到它的那个套接字。
explain-seg-rst-in-close = { explain-who }发出的 RST：它在关闭过程的中途终止了连接。两端立即丢弃连接（CLOSED）：没有 TIME-WAIT。
explain-seg-rst-abort = { explain-who }发出的 RST：这是异常关闭（复位）。两端立即丢弃连接（CLOSED），不经过 FIN，也没有 TIME-WAIT。
explain-seg-step1-refused = 应答将是 RST：最可能是服务器的这个端口上没有进程在监听。
explain-seg-step1-taken = { explain-peer }收到后接受了它，进入 SYN-RECEIVED，并在这个状态下发出应答。
explain-seg-step1-again = 这个 SYN 是客户端先前那个 SYN 的重传：服务器接受了这一个。
explain-seg-step2 = 三次握手第 2 步：{ explain-who }确认 SYN（ack=1），并在同一个报文段里发出自己的 SYN。这就是建立连接只需三次握手、而不是四次的原因：服务器的 TCP 收到 SYN 后不必等应用程序，确认和自己的 SYN 可以合在一个报文段里发出；而关闭时，被动关闭方要等应用程序调用 close() 才发 FIN。
explain-seg-step3-as-taken = 三次握手第 3 步（按图中的判断）：客户端重传 { $bytes }，这一次服务器接受了（ack={ $ack }）。
explain-seg-step3-data-again = 三次握手第 3 步：客户端重传 { $bytes }，这一次服务器接受了这些数据，也就一并接受了对其 SYN-ACK 的确认（ack={ $ack }）。
explain-seg-step3 = 三次握手第 3 步：客户端确认服务器的 SYN（ack={ $ack }）。
explain-seg-established = 双方的初始序号都已被对方确认：进入 ESTABLISHED（已建立连接）。
explain-seg-step3-unanswered = 在此之前，客户端的 { $n } 个报文段服务器都没有应答，第一个是在 { $ms } ms 之前（服务器是否已接受 ACK，从报文段上看不出来）。
explain-seg-step3-not-taken = 在此之前，服务器没有接受客户端的 { $n } 个报文段：从第一个算起，它在 SYN-RECEIVED 停留了 { $ms } ms。
explain-seg-fin-crossing = { explain-who }关闭自己这个方向（FIN）。{ explain-peer }在这个 FIN 到达之前就发出了自己的 FIN：两个 FIN 在途中交叉而过（同时关闭）。
explain-seg-fin-first = { explain-who }没有数据要发送了，关闭自己这个方向（FIN，seq={ $seq }）。FIN 要消耗一个序号：对它的确认将是 ack={ $ack }。{ explain-peer }仍可以继续发送数据：关闭是按方向分别进行的，所以关闭可能需要四个报文段（四次挥手）。
explain-seg-fin-ack-data = 这个报文段携带了{ explain-who }最后的 { $len } 字节数据、它的 FIN 以及对{ explain-peer } FIN 的确认（ack={ $ack }）：数据、FIN 和 ACK 合在一个报文段里，所以关闭只用了三个报文段（三次挥手）。
explain-seg-fin-ack = 这个 FIN-ACK 捎带了对{ explain-peer } FIN 的确认（ack={ $ack }），所以关闭只用了三个报文段（三次挥手）：{ explain-who }的 ACK 和它的 FIN 一起发出。
explain-seg-fin-ack-delack = { explain-who }的应用程序在{ explain-peer }的 FIN 到达 { $ms } ms 后就关闭了，这时被推迟的 ACK 还没到发送的时候（Linux 对 FIN 的确认至少推迟 { $delack } ms）。
explain-seg-fin-via = { explain-who }在{ explain-peer }的 FIN 到达之前，从 { $from } 发出了自己的 FIN（{ $via }）：两个 FIN 交叉而过。这个 FIN 没有确认{ explain-peer }的 FIN（ack={ $ack }），所以双方收到的 FIN 都没有确认自己的 FIN：{ explain-peer }进入 { $p_after }，{ explain-who }在{ explain-peer }的 FIN 到达时进入 { $w_after }。
explain-seg-fin-second = { explain-who }也关闭了自己这个方向{ $after ->
    [yes] ，比它确认{ explain-peer } FIN 的那个报文段晚 { $ms } ms
   *[no] {""}
}：它的 ACK 和 FIN 是分开发送的，这就是四次挥手。{ explain-who }的状态：{ $from } -> { $to }。
explain-seg-time-wait-answers = { explain-who }在 TIME-WAIT 中再次回应{ explain-peer }的 FIN，补发{ explain-peer }没有收到的 ACK（ack={ $ack }）：{ explain-peer }的状态 { $from } -> { $to }，{ explain-who }重新开始 2MSL 的等待（RFC 9293 §3.10.7.4；Linux 上 TIME-WAIT 固定为 60 秒）。这正是 TIME-WAIT 的作用。
explain-seg-after-close = 关闭完成（两个 FIN 都已被确认）之后{ explain-who }发来的报文段：它不会改变任何状态。
explain-seg-data = { explain-who }发送 { $bytes }。
explain-seg-data-acked = { explain-peer }用 ack={ $ack } 确认了这些数据（第 { $row } 行）：ack = seq + len，即它期望收到的下一个字节的序号。
explain-seg-data-acked-past = { explain-peer }用 ack={ $ack } 确认了这些数据（第 { $row } 行），超过了 seq + len = { $next }：这个 ACK 把后面的数据也一并确认了（累积确认）。
explain-seg-half-close = { explain-peer }已经关闭了自己这个方向，但{ explain-who }仍可以继续发送：这就是半关闭。
explain-seg-ack-covers = 来自{ explain-who }的 ACK：ack={ $ack } = { $seq } + { $len }（第 { $row } 行{ explain-peer }数据的 seq 与 len 之和），即它期望收到的下一个字节的序号：第 { $upto } 字节及之前的数据它都已收到。
explain-seg-ack = 来自{ explain-who }的 ACK：ack={ $ack }，即它期望收到的下一个字节的序号。
explain-seg-fin-acked-with-data = { explain-who }发送 { $bytes }，同时确认了{ explain-peer }的 FIN（ack={ $ack }），距 FIN 到达 { $ms } ms：ACK 捎带在数据上。
explain-seg-not-closed-half-close = { explain-who }还没有关闭自己这个方向：这是半关闭。
explain-seg-goes = { explain-who }的状态：{ $from } -> { $to }。
explain-seg-fin-acked-alone = { explain-who }单独确认{ explain-peer }的 FIN（ack={ $ack }），距 FIN 到达 { $ms } ms：它自己还没有关闭（可能还有数据要发），所以它的 FIN 要另用一个报文段发送。
explain-seg-close-wait-only-now = { explain-who }直到现在才进入 CLOSE-WAIT：{ $hole }。
explain-seg-delack-fired = 这个 ACK 是在{ explain-who }的延迟确认计时器到期时发出的（Linux 至少等待 { $delack } ms）。
explain-seg-fin-acked = { explain-who }确认{ explain-peer }的 FIN（ack={ $ack }）：{ explain-peer }的状态 { $from } -> { $to }。
explain-seg-last-segment = 这是关闭过程的最后一个报文段。先关闭的{ explain-who }收到对方的 FIN 时已进入 TIME-WAIT，要在其中等待 2MSL（Linux 上固定为 60 秒），以防这个 ACK 丢失、对方重传 FIN。
explain-seg-both-time-wait = 双方现在都处于 TIME-WAIT：双方都在收到对方的 FIN 之前发出了自己的 FIN（经过 FIN-WAIT-1，而不是 CLOSE-WAIT），凡这样的一方都要在 TIME-WAIT 等待。
explain-seg-still-closing = { explain-who }仍处于 CLOSING，等待对方确认自己的 FIN。

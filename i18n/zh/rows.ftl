# rows: 编号 rows-*。梯形图各行上及其周围的文字（步骤注释、内核记录行、
# 套接字调用、标题行），用于 text、Mermaid 和 SVG 导出。
# 参数：$role 为 "client" 或 "server"；$n、$step、$row 为整数；
# $ms 为已格式化的时间（"0.040"），单位写在消息里。

## 步骤注释，写在服务器状态列之后。

rows-handshake = 三次握手 { $step }/3
rows-refused = 连接被拒绝 { $step }/2
rows-reset = 复位
rows-retransmission = 重传
rows-retransmission-handshake = 重传，三次握手 3/3
# $kind：four（四次挥手）、three（第二个 FIN 同时确认了第一个 FIN）或 simultaneous（同时关闭）。
rows-teardown = { $kind ->
    [simultaneous] 同时关闭
    [three] 三次挥手
   *[four] 四次挥手
} { $steps }/{ $total }
rows-teardown-late = 挥手（抓包之前已经开始）
rows-after-close = 连接关闭之后
rows-after-close-time-wait = 处于 TIME-WAIT 的一方再次发送 ACK
rows-dropped = 被丢弃
rows-lost-or-dropped = 丢失或被丢弃
rows-not-taken = { $step }（{ $what }）
rows-elided = ⋯ 此前有 { $n } 个报文段未保留 ⋯
rows-fins-cross = ✕ FIN 交叉
rows-icmp-errors = ⚠ ICMP 差错报文

## 标题行与端点。

rows-endpoint = { $role ->
    [client] 客户端
   *[server] 服务器
} { $addr }
rows-role = { $role ->
    [client] 客户端
   *[server] 服务器
}
rows-carried-in = 封装于 { $encap }
rows-close-kind = { $kind ->
    [four-way] 四次挥手
    [three-way] 三次挥手
    [simultaneous] 同时关闭
    [reset] 复位 RST
    [refused] 连接被拒绝
    [open] 未关闭
   *[begun-before-capture] 抓包开始前已在关闭
}

## 文本梯形图各行之间插入的行。

rows-call-at = { $ms } ms 时
rows-kernel = { $mark } 内核：{ $role ->
    [client] 客户端
   *[server] 服务器
} { $from } → { $to }，{ $ms } ms 时
rows-kernel-handover = （内核报告的 CLOSED：完整的套接字已经释放，改由一个处于 { $state } 的小套接字接管这个连接）
rows-kernel-born-late = （这是服务器在握手完成时新建的套接字；监听套接字仍处于 LISTEN，回应 SYN 的请求套接字不报告状态变化）
rows-kernel-wire-elsewhere = ✗ 报文段显示这一变化在第 { $row } 行，时间不同
rows-kernel-wire-none = ✗ 报文段中看不出这一变化
rows-kernel-summary = 内核：{ $n } 次状态变化中有 { $agreed } 次与报文段一致
rows-kernel-summary-missing = 内核：报告了 { $n } 次状态变化，{ $all ->
    [both] 两次都
    [all] 全部
   *[some] 其中 { $agreed } 次
}与报文段一致；报文段显示的状态变化中有 { $missing } 次在内核中没有对应的记录
rows-icmp = ⚠ ICMP{ $v6 } { $name }，来自 { $from }，{ $ms } ms 时{ $mtu ->
    [0] {""}
   *[other] ，MTU { $mtu }
}
rows-icmp-name = { $key ->
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

## --diagram：两端在 RFC 9293 图 5 中走过的路径。

rows-path-title = 两端在 RFC 9293 图 5（TCP 状态图）中走过的路径。箭头上的标注照录 RFC 原文（rcv 表示收到，snd 表示发送，x 表示无动作），“第 N 行”指上面梯形图的第 N 行：
rows-path-row = 第 { $row } 行
rows-ack-of-fin = { $fin ->
    [yes] （这个 ACK 在第 { $row } 行发出，与自己的 FIN 合在同一个报文段里）
   *[no] （这个 ACK 在第 { $row } 行发出）
}
rows-not-an-arrow = （图 5 中没有这个箭头。{ $why }）
rows-off-arrow = { $key ->
    [rst-in-syn-sent] rcv RST of our SYN / x，依据 RFC 9293 §3.10.7.3。图 5 没有画出 RST，见其注 3
    [rst-received] rcv RST / x，依据 RFC 9293 §3.10.7.4 的第二项检查。图 5 没有画出 RST，见其注 3
    [rst-abort] ABORT / snd RST，依据 RFC 9293 §3.10.5。图 5 没有画出 RST，其注 3 让发送 RST 的一方进入 TIME-WAIT，而 §3.10.5 和 Linux 都让它直接进入 CLOSED
    [rst-unread] 接收缓冲区中还有未读数据时 CLOSE，或 ABORT / snd RST，依据 RFC 9293 §3.6.1、§3.10.5。图 5 没有画出 RST，其注 3 让发送 RST 的一方进入 TIME-WAIT，而 §3.10.5 和 Linux 都让它直接进入 CLOSED
    [rst-data-after-close] CLOSE 之后又收到数据 / snd RST，依据 RFC 9293 §3.6.1。图 5 没有画出 RST，其注 3 让发送 RST 的一方进入 TIME-WAIT，而 §3.10.5 和 Linux 都让它直接进入 CLOSED
    [fin-with-ack] 收到的 FIN 同时确认了本端的 FIN，相当于经 FIN-WAIT-2 到 TIME-WAIT 的两个箭头一步走完，见图 5 的注 2
    [fin-before-ack] 在收到对本端 SYN 的 ACK 之前就收到了 FIN
    [inferred] 这是观察者根据报文段推断出的一步
   *[other] { $why }
}
rows-fig-title = RFC 9293 状态图：客户端的路径为{ $blue }，服务器的为{ $orange }
rows-fig-blue = 蓝色（C）
rows-fig-orange = 橙色（S）
rows-fig-legend = （图中缩写：SYN-RCVD 即 SYN-RECEIVED，ESTAB 即 ESTABLISHED）
rows-fig-gloss = （各状态：LISTEN 收听（监听），SYN-SENT 同步已发送，SYN-RECEIVED 同步收到，ESTABLISHED 已建立连接，FIN-WAIT-1 终止等待 1，FIN-WAIT-2 终止等待 2，CLOSE-WAIT 关闭等待，CLOSING 同时关闭中，LAST-ACK 最后确认，TIME-WAIT 时间等待（等待 2MSL，Linux 固定为 60 秒），CLOSED 关闭）

## Mermaid 与 SVG。

rows-mermaid-title = #{ $id } { $client } → { $server }（关闭方式：{ $kind }）
rows-mermaid-heading = #{ $id } { $client } → { $server }（{ $kind }）
rows-mermaid-many = synack：每个连接一张 Mermaid 图
rows-svg-title = #{ $id } 客户端 { $client } ⇄ 服务器 { $server } · 关闭方式：{ $kind }

## UDP 流。

rows-udp-heading = UDP 流 { $id }  { $client } <-> { $server }
rows-udp-not-kept = ... 有 { $n } 个数据报未保留 ...
rows-udp-icmp = ICMP { $name }（来自 { $from }）
rows-udp-no-state = UDP 是无连接的：通信前不用建立连接，结束后也不用释放，收发双方都不维护连接状态
rows-udp-mermaid-title = UDP 流 { $id } { $client } ↔ { $server }
rows-udp-svg-title = UDP 流 { $id }  客户端 { $client } ⇄ 服务器 { $server }

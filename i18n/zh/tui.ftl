# tui: ids tui-*. 仪表盘上的文字：状态栏、列表、时序图标题、面板、按键、帮助、
# 提示、监听队列栏、导览说明。{" "} 保留 Fluent 会在值两端去掉的空格。
# 每个汉字占两列：80 列的终端上要写得简短。

## 状态栏
tui-status-paused = 已暂停
tui-status-live = 实时
tui-status-step = 单步
tui-status-replay-end = 回放（已结束）
tui-status-replay = 回放
tui-status-live-mode = { $state } { $interface } tcp/udp 端口 { $port }
tui-status-step-held = 本步暂停（空格继续）
tui-status-hold = 锁定 #{ $id }
tui-status-hold-udp = 锁定 UDP #{ $id }
tui-status-follow = 跟随最新
tui-status-held = 暂停中
tui-status-connections = { $n } 个连接
tui-status-connections-short = { $n } 连接
tui-status-flows = { $n } 个 UDP 流
tui-status-flows-short = { $n } UDP
tui-status-packets = { $n } 个分组
tui-status-packets-short = { $n } 分组
tui-status-drops = 内核丢弃 { $n }
tui-status-drops-short = 丢弃 { $n }
tui-status-kernel = 内核视图 ⚙
tui-status-kernel-off = 内核视图未开启
tui-status-kernel-off-short = 无 ⚙
tui-status-gone = { $n } 个已淘汰或清除
tui-status-gone-short = { $n } 已移除
tui-status-left-out = { $n } 次尝试未列出
tui-status-left-out-short = { $n } 未列出
tui-status-lost = { $n } 个丢失（界面跟不上）
tui-status-lost-short = { $n } 丢失
tui-status-held-count = { $n } 个待显示
tui-status-undecodable = { $n } 个无法解码
tui-status-undecodable-short = { $n } 坏包

## 连接列表
tui-list-title = {" "}连接{" "}
tui-list-title-sorted = {" "}连接 ── { $order }（o）{" "}
tui-list-title-typing = {" "}连接 ── 过滤：{ $filter }▏（Enter 保留，Esc 清除）{" "}
tui-list-title-filtered = {" "}连接 ── 过滤：{ $filter } ── 显示 { $shown }/{ $total }（按 / 修改）{" "}
tui-list-time-wait = { $role ->
    [client] 客户端
   *[server] 服务器
} TIME-WAIT { $secs }
tui-list-no-match = 没有连接匹配“{ $filter }”（Esc 清除）
tui-list-waiting-step = 等待本步的连接……
tui-list-waiting = 等待连接……
tui-list-waiting-keys = 等待连接：按 { $one } 建立一个连接，{ $closes } 演示各种关闭，{ $udp } 演示 UDP
tui-col-proto = 协议
tui-col-client = 客户端
tui-col-client-state = 客户端状态
tui-col-server-state = 服务器状态
tui-col-open = 握手
tui-col-close = 关闭
tui-col-kind = 关闭方式
tui-col-scenario = 场景
tui-col-age-countdown = 空闲 / 倒计时
tui-col-port = 端口
tui-col-client-short = 客户端
tui-col-server-short = 服务器
tui-col-age = 时间
tui-sort-started = 按开始顺序
tui-sort-kind = 按关闭方式
tui-sort-duration = 时长最长的在前

## 关闭方式（列表和时序图标题里显示的）
tui-kind-four-way = 四次挥手
tui-kind-three-way = 三次挥手
tui-kind-simultaneous = 同时关闭
tui-kind-reset = 复位 RST
tui-kind-refused = 连接被拒绝
tui-kind-open = 未关闭
tui-kind-before-capture = 抓包开始前已在关闭
tui-kind-udp-no-close = 无关闭
tui-kind-udp-icmp = ICMP 差错

## 时序图
tui-ladder-title = {" "}时序图{" "}
tui-ladder-times-relative = {" "}── t：距开始（ms）
tui-ladder-times-delta = {" "}── t：距上一行（ms）
tui-ladder-times-absolute = {" "}── t：时钟时间，UTC
tui-ladder-not-yet = 未完成
tui-ladder-carried = {" "}── 封装于 { $encap }
tui-ladder-close = 关闭：{ $kind }
tui-ladder-ends = 客户端 { $client } ── 服务器 { $server }
tui-ladder-above = {" "}▲ 上方还有 { $n } 行{" "}
tui-ladder-below = {" "}▼ 下方还有 { $n } 行{" "}
tui-udp-title-short = {" "}UDP #{ $id } ── 无状态{" "}
tui-udp-title = {" "}UDP 流 #{ $id } ── 无状态{" "}
tui-udp-title-long = {" "}UDP 流 #{ $id } 客户端 { $client } ── 服务器 { $server } ── 无状态{" "}

## 解读面板
tui-panel-title = {" "}解读{" "}
tui-panel-more = {" "}▼ 还有 { $n } 行：请放大终端{" "}
tui-udp-verdict = { $verdict }。
tui-udp-so-far = 到目前为止：{ $verdict }。
tui-udp-no-state = UDP 是无连接的：通信前不用建立连接，结束后也不用释放，收发双方都不维护连接状态。

## 演示导览
tui-tour-count-tcp = TCP 连接 #{ $id }：{ $n } 个报文段
tui-tour-count-udp = UDP 流 #{ $id }：{ $n } 个数据报
tui-tour-count-gap = ；
tui-tour-counts = 列表中，{ $counts }。
tui-tour-over = 导览结束，共 { $n } 步。按 p 回看上一步，按 q 退出。
tui-tour-step = 第 { $i }/{ $n } 步：{ $caption }
tui-tour-tries = 试了 { $n } 次：之前 { $left } 次关闭时两个 FIN 没有交叉，未列出。

## 提示
tui-notice-capture-stopped = 抓包中止：{ $error }
tui-notice-capture-empty = 抓包中没有所监视端口上的 TCP 报文段或 UDP 数据报
tui-notice-capture-read = 抓包已读完：{ $n } 个报文段等待单步查看（按空格）
tui-notice-capture-end = 抓包结束
tui-scenario-unnamed = 一个场景
tui-notice-scenario-failed = { $name } 失败：{ $error }
tui-notice-udp-refused = { $name }：send() 向 { $to } 发出 { $sent } 字节成功，下一次 recv() 却失败，返回 ECONNREFUSED：ICMP 端口不可达报文送到了客户端已连接的套接字
tui-notice-retried = { $name }：第 { $try_n } 次尝试时两个 FIN 交叉了；之前 { $left } 次没有交叉，未列出
tui-notice-no-scenarios-replay = 场景键会实时发起连接：回放时只显示抓包里的内容
tui-notice-no-scenarios-live = 场景键需要 synack 的回显服务器，而 --no-serve 没有启动它（去掉该选项运行 synack，或另外运行 synack serve）
tui-notice-time-column = 时间列需要时序图至少 { $need } 列宽（现在 { $width } 列）：请放大终端
tui-notice-calls-shown = 显示套接字调用（◆）
tui-notice-calls-hidden = 隐藏套接字调用
tui-notice-lane-live-only = 监听队列栏读取的是内核此刻的队列：只用于实时抓包
tui-notice-export-udp = e 导出 TCP 连接；UDP 流请用 synack trace --read FILE 画出（text、jsonl、Mermaid、SVG）
tui-diagram-too-small = 状态图需要至少 92 x 40 的终端（与时序图并排：192 x 40）；请放大终端

## 终端太小
tui-too-small = synack：终端太小
tui-too-small-enlarge = 请放大到至少 { $w } x { $h }
tui-too-small-now = （现在 { $w } x { $h }）
tui-too-small-quit = 按 q 退出

## 底栏按键
tui-key-connection = ↑↓ 连接
tui-key-segment = ←→ 报文段
tui-key-focus = Tab 切换焦点
tui-key-connection-short = ↑↓ 连接
tui-key-segment-short = ←→ 段
tui-key-next-step = n 下一步
tui-key-back = p 上一步
tui-key-hold = 空格 停住
tui-key-next = 空格 下一个
tui-key-pause = 空格 暂停
tui-key-follow = f 跟随
tui-key-clear = c 清除
tui-key-export = e 导出
tui-key-scenarios = { $keys } 场景
tui-key-run = { $keys } 运行
tui-key-help = ? 帮助
tui-key-quit = q 退出

## 帮助（?）
tui-help-title = {" "}按键{" "}
tui-help-select-keys = ↑ ↓ 或 k j，鼠标
tui-help-select = 选择连接（在时序图中：选择报文段）；可点击、滚动
tui-help-move-keys = ← → 或 h l
tui-help-move = 在所选连接的报文段之间移动
tui-help-focus-keys = Tab / Home End
tui-help-focus = 焦点切换列表或时序图（Enter 亦可）/ 第一个、最新报文段
tui-help-pause-keys = 空格 / n p
tui-help-pause = 暂停（--step：下一个；演示：停住）/ 演示下一步、上一步
tui-help-export = 导出为 synack-<id>.txt、.mmd、.svg（不覆盖已有文件）
tui-help-page-keys = PgUp PgDn g G
tui-help-page = 上一页 / 下一页；第一个 / 最后一个连接
tui-help-follow-keys = f c / t o
tui-help-follow = 跟随最新 / 清除已结束的；时间显示 / 列表排序
tui-help-filter-keys = / , Esc
tui-help-filter = 过滤：tcp/udp、关闭方式、场景、状态、地址、端口 / 清除
tui-help-views-keys = d / L / i
tui-help-views = RFC 9293 状态图 / 监听队列 / 套接字调用 ◆
tui-help-quit-keys = ? / q, Ctrl-C
tui-help-quit = 本帮助（按任意键关闭）/ 退出
tui-help-scenario-note = {"  "}synack 的回显服务器运行时（synack、synack demo），场景键才可用

## 状态图面板
tui-diagram-title-kernel = {" "}RFC 9293 状态图 ── C 客户端  S 服务器  ⚙ 内核（下划线）── d 隐藏{" "}
tui-diagram-title = {" "}RFC 9293 状态图 ── C 客户端  S 服务器 ── d 隐藏{" "}
tui-diagram-abbreviations = {" "}SYN-RCVD 即 SYN-RECEIVED，ESTAB 即 ESTABLISHED（RFC 原图的缩写）{" "}
tui-diagram-no-connection = 还没有连接：第一个 SYN 出现后标出双方的位置
tui-diagram-kernel = {"   "}内核：{ $changes }
tui-diagram-move = { $from } → { $to }（{ $label }）
tui-diagram-off = { $from } → { $to }  不在图中：{ $why }
tui-diagram-stays = 第 { $row } 行：保持 { $state }
tui-diagram-row = 第 { $row } 行：{ $moves }
tui-diagram-then = ，然后{" "}
tui-role = { $role ->
    [client] 客户端
   *[server] 服务器
}

## 监听队列栏
tui-lane-reading = 监听 :{ $port }：正在读取内核的队列…
tui-lane-unavailable = 监听 :{ $port }：无法读取内核的队列（{ $error }）
tui-lane-unavailable-short = 监听 :{ $port }：内核队列不可用
tui-lane-nothing-listens = 端口 { $port } 上没有监听：没有队列（向它 connect() 会被拒绝）
tui-lane-more-listening = （另有 { $n } 个在监听）
tui-lane-full = {" "}已满
tui-lane-accept-queue = 全连接队列 { $n }/{ $holds }{ $full }
tui-lane-syn-queue = 半连接队列 { $n }
tui-lane-queues-long = 监听 { $at }{ $more }  backlog { $backlog }  { $accept }（Linux 允许比 backlog 多排一个）  { $syn }
tui-lane-queues = 监听 { $at }{ $more }  backlog { $backlog }  { $accept }  { $syn }
tui-lane-queues-short = { $at }  { $accept }（backlog { $backlog }）  { $syn }
tui-lane-queues-shortest = { $at }  { $accept }（backlog { $backlog }）  { $syn }
# 最短的一行也放不下时：不写监听地址。
tui-lane-queues-bare = { $accept }（backlog { $backlog }）  { $syn }
tui-lane-again = ，其后又重发了 { $n } 个 SYN-ACK
tui-lane-again-short = ，重发 SYN-ACK { $n }
tui-lane-wire = 抓包所见：{ $syns } 个 SYN 没有应答，{ $acks } 个第三次握手的 ACK 未被接受{ $again }
tui-lane-wire-short = 抓包：{ $syns } 个 SYN + { $acks } 个第三次握手 ACK 未被接受
tui-lane-kernel = 内核计数（synack 启动以来，所有端口）：ListenOverflows +{ $overflows }，ListenDrops +{ $drops }
tui-lane-kernel-short = 内核：溢出 +{ $overflows }，丢弃 +{ $drops }
tui-lane-kernel-unavailable = 内核计数器不可用
tui-lane-kernel-unavailable-short = 无内核计数
tui-lane-drops = 丢弃  { $wire }  ·  { $kernel }

## 场景：帮助里的一行，导览的说明
tui-scenario-seed = 教程里的客户端：connect()，发送 helloworld，close()
tui-caption-seed = 教程里的客户端和服务器。看前三行：SYN、SYN-ACK、ACK，这就是三次握手，连接由此建立。接着是“helloworld”和服务器转成大写的回复。随后双方紧接着先后关闭：谁的 FIN 先发出，谁就是主动关闭方，要进入 TIME-WAIT 等待。
tui-scenario-udp = UDP：把“helloworld”作为一个数据报发出，等回复 1 秒
tui-caption-udp = 还是第 1 步的“helloworld”，这次走 UDP：一个数据报发给服务器，转成大写的回复发回来。看时序图：没有握手，没有关闭，也没有状态列，因为 UDP 不维护连接状态。
tui-scenario-client-close = 客户端先关闭；服务器读到 EOF 后关闭
tui-caption-client-close = 客户端先关闭；服务器一读到数据流的结尾（EOF）就关闭。看关闭过程：服务器的 FIN 捎带了对客户端 FIN 的确认，所以只有三个报文段，而不是四个。
tui-scenario-server-close = 服务器先关闭；客户端读到 EOF 后关闭
tui-scenario-slow-close = 慢关闭：看得见的四次挥手
tui-caption-slow-close = 服务器收到客户端的 FIN 后，等 200 ms 才关闭。看关闭过程：它对客户端 FIN 的确认 ACK 在延迟确认计时器到期时单独发出；它自己的 FIN 比客户端的晚约 200 ms。这就是教科书上的四次挥手：FIN、ACK、FIN、ACK。
tui-scenario-half-close = 半关闭：客户端发出 FIN 后，数据仍在流动
tui-caption-half-close = 半关闭：客户端只关闭了写方向（shutdown()）。看客户端的 FIN 之后：服务器仍然发来三段数据，客户端逐一确认；然后服务器才关闭。
tui-scenario-abort = 异常终止：用 RST 代替 FIN
tui-caption-abort = 异常终止：SO_LINGER 设为 0，客户端的 close() 直接发出 RST。看最后一行：双方都没有发 FIN，也没有哪一方进入 TIME-WAIT。
tui-scenario-simultaneous = 同时关闭：两个 FIN 交叉
tui-caption-simultaneous = 双方在同一时刻关闭。看两个 FIN：每个都在对方的 FIN 到达之前发出（✕ 表示 FIN 交叉），所以双方都经历 FIN-WAIT-1、CLOSING、TIME-WAIT。
tui-scenario-refused = 连接被拒绝：服务器暂时停止监听
tui-caption-refused = 连接被拒绝：暂时没有进程监听。看这两行：SYN 得到的回答是 RST-ACK，连接从未建立。
tui-scenario-close-wait = CLOSE-WAIT：服务器程序 3 秒不关闭套接字
tui-caption-close-wait = 服务器程序忘了关闭套接字。看客户端的 FIN 之后：它得到了确认，然后 3 秒没有任何报文段：服务器的套接字停在 CLOSE-WAIT，客户端的停在 FIN-WAIT-2。服务器上成千上万个 CLOSE-WAIT，就是这个原因。
tui-scenario-backlog = 全连接队列：listen(3)，八个客户端同时连接，队列满
tui-caption-backlog = 服务器像教程那样调用 listen(3)，然后 2 秒内不调用 accept()；八个客户端同时连接。listen(3) 限制的是全连接队列：已完成三次握手、还没被 accept() 取走的连接。Linux 要等排队的连接超过 3 个才认为队列已满，所以能放下四个。队列满时，Linux 丢弃新来的 SYN 和第三次握手的 ACK；TCP 从不重传单纯的 ACK：再次到来的是客户端的 SYN、客户端的数据（捎带着 ACK），或服务器的 SYN-ACK。教程说 3 是半连接池的大小：只说对了一半。还没完成握手的连接（SYN-RECEIVED，即半连接）在另一个队列——半连接队列——里等待，Linux 上它也受这个 3 限制；全连接队列里放的是已完成握手的连接。之后服务器每 200 ms 接受一个：看监听队列栏一点点排空。
tui-scenario-stream = 字节流：两次 send()，一次 recv()（消息边界）
tui-caption-stream = TCP 是字节流。客户端用两次 send() 发出“hello”和“world”，相隔 10 ms：两个报文段。服务器在 accept() 之后等 50 ms，它的一次 recv(1024) 就把两者一起读到，共 10 字节。接着一条 1025 字节的消息要两次 recv(1024)：先 1024 字节，再 1 字节。看 ◆ 行：调用不等于报文段。
tui-scenario-udp-closed = UDP 无人监听：ICMP 差错，已连接的 recv() 报 ECONNREFUSED

## 内置客户端的错误（场景的提示，synack client）
tui-echo-no-crossing = 试了 { $tries } 次，两个 FIN 都没有交叉（每次都是一方看到对方的 FIN 后才关闭）：没有出现同时关闭
tui-echo-wrong-reply = 服务器回复了 { $got }，而回显服务器应回复 { $want }
tui-echo-no-control = { $addr } 没有 synack 的控制通道：backlog 场景需要 synack 的服务器，它能按要求暂停 accept()
tui-echo-client-panicked = 一个 backlog 客户端崩溃了
tui-echo-kept-accepting-paused = { $addr } 在暂停期间仍在接受连接
tui-echo-kept-accepting = { $addr } 仍在接受连接；连接被拒绝的场景需要一个无人监听的端口（或 synack 的服务器，它能按要求停止监听）
tui-udp-echo-wrong-reply = 服务器回复了 { $got }，而回显服务器应回复 { $want }
tui-udp-echo-no-reply = { $secs } 秒内没有回复：数据报或它的回复丢了，或者 { $addr } 上没有 UDP 服务应答（UDP 不重传）
tui-udp-echo-refused = UDP { $addr } 上无人监听：它的 ICMP 端口不可达报文以 ECONNREFUSED 的形式返回
tui-udp-echo-no-icmp = { $secs } 秒内没有收到 { $target } 的 ICMP 端口不可达报文（可能被防火墙丢弃）
tui-udp-echo-answered = { $target } 回复了 { $n } 字节：那里有程序在监听

## 仪表盘的其他提示
tui-notice-kernel-lost = 内核视图：丢失了 { $n } 个状态变化或套接字调用（内核的环形缓冲区或积压队列已满）
tui-needs-terminal = 仪表盘需要终端；要纯文本输出请用 synack trace
tui-notice-exported = 已把 #{ $id } 导出到 { $files }
tui-notice-export-failed = 导出失败：{ $error }
tui-notice-cannot-start = 无法启动：{ $error }

# 帮助下方的状态名释义（谢希仁《计算机网络》的译名）。
tui-help-states =
    状态：CLOSED 关闭 · LISTEN 收听（监听） · SYN-SENT 同步已发送
    SYN-RECEIVED 同步收到 · ESTABLISHED 已建立连接 · FIN-WAIT-1 终止等待 1
    FIN-WAIT-2 终止等待 2 · CLOSE-WAIT 关闭等待 · LAST-ACK 最后确认
    CLOSING 同时关闭中 · TIME-WAIT 时间等待（2MSL，Linux 固定为 60 秒）

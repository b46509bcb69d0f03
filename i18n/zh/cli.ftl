# cli: 编号 cli-*。命令行在仪表盘之外写到 stderr 的话：错误、权限提示、trace 的小结。

## 错误行，以及错误链各段之间的分隔。
cli-error = 错误：{ $message }
cli-chain-gap = ：

## Rust 和操作系统自己的话，用中文再说一遍。
cli-io-not-found = 没有那个文件或目录
cli-io-permission = 权限不够
cli-io-addr-in-use = 地址已在使用
cli-io-not-permitted = 不允许的操作
cli-io-no-space = 设备上没有空间
cli-io-no-device = 没有那个设备
cli-io-is-a-directory = 是一个目录
cli-io-os-error = { $text }（os error { $code }）

## clap 的错误。
cli-clap-invalid-value = 参数 '{ $arg }' 的值 '{ $value }' 无效：{ $cause }
cli-clap-invalid-digit = 含有非数字的字符
cli-clap-empty = 值是空的
cli-clap-too-large = 数值太大
cli-clap-range = { $value } 不在 { $range } 范围内
cli-clap-unknown = 不认识的参数 '{ $arg }'
cli-bad-lang = synack 不会说 '{ $value }'：可选 en（English）或 zh（中文）
cli-clap-more = 用法见 '--help'（帮助信息为英文）。

## 打开、写入文件。
cli-cannot-open = 无法打开 { $path }
cli-cannot-read = 无法读取 { $path }
cli-cannot-create = 无法创建 { $path }
cli-cannot-read-stdin = 无法读取标准输入
cli-stdin = 标准输入
cli-cannot-write-manpage = 无法写出手册页
cli-cannot-handle-signals = 无法处理停止信号
cli-cannot-finish-recording = 无法完成录制文件 { $path }
cli-refuse-output = 拒绝把输出写到 { $path }：它就是{ $what ->
    [input] 输入文件（--read）
   *[recording] 录制文件（--write）
}
cli-refuse-record = 拒绝覆盖 { $path }：文件已存在

## 抓包文件提前结束：在哪里断的。
cli-source-empty = { $name } 是空文件
cli-source-not-capture = { $name } 不是 pcap 或 pcapng 抓包文件（开头的字节是 { $found }）
cli-source-truncated = { $name } 在第 { $packets } 个分组之后被截断（字节偏移 { $offset }）
cli-source-corrupt = { $name } 在第 { $packets } 个分组之后损坏（字节偏移 { $offset }）：{ $what }
cli-source-io = 无法读取 { $name }

cli-cannot-record = 无法录制抓包
cli-cannot-write-output = 无法写出输出
cli-record-too-long = 有一条记录超过 { $max } 字节

## 用法。
cli-diagram-format = --diagram 只能与 --format text 或 svg 一起用
cli-kernel-needs-live = --kernel on 需要实时抓包：抓包文件里只记录了网络上的报文段
cli-write-with-read = --write 用于录制实时抓包，不能与 --read 一起用
cli-bad-duration = --duration 应为秒数，而不是 { $value }
cli-bad-speed = --speed 应为 0 或更大的数，而不是 { $value }
cli-bad-repeat = --repeat 和 --concurrency 至少为 1
cli-no-connection = 没有编号为 #{ $id } 的连接：{ $held }
cli-holds-none = 这里一个连接也没有
cli-holds-one = 这里只有 #1
cli-holds-range = 这里只有 #1 到 #{ $n }
cli-demo-port-busy = 演示要运行自己的回显服务器，但 { $addr } 已被占用；请用 --port 换一个端口

## 权限：在接管终端之前说清楚。
cli-open-permission = 在 { $interface } 上抓包需要 CAP_NET_RAW 权限（{ $cause }）
cli-open-no-interface = 没有名为 { $name } 的网络接口（现有：{ $available }）
cli-open-other = 无法在 { $interface } 上抓包
cli-run-as-root = 以 root 身份运行：  sudo { $exe } { $args }
cli-allow-once = 或一次性授予权限：  sudo setcap cap_net_raw+ep { $exe }
cli-refuse-root = { $error }；拒绝以 root 权限运行
cli-cannot-drop = 抓包已打开，但无法放弃权限
cli-priv-bad-id = { $name }={ $value } 不是用户或组的 ID（应为小于 4294967295 的十进制数）
cli-priv-missing-gid = 设置了 SUDO_UID 却没有设置 SUDO_GID：不知道该切换到哪个组
cli-priv-missing-uid = 设置了 SUDO_GID 却没有设置 SUDO_UID：不知道该切换到哪个用户
cli-priv-switch = 无法切换到 uid { $uid } / gid { $gid }：{ $cause }
cli-priv-capabilities = 无法清空能力集（capabilities）：{ $cause }

## 内核视图。
cli-kernel-on = --kernel on：{ $error }
cli-kernel-off = 内核视图已关闭：{ $error }
cli-no-tracefs = tracefs 没有挂载，也无法挂载到 /sys/kernel/tracing（{ $cause }）；请以 root 运行：mount -t tracefs nodev /sys/kernel/tracing
cli-no-tracepoint = 跟踪点 sock:inet_sock_set_state 不存在或不可读（{ $cause }）
cli-tracepoint-refused = 没有权限（{ $cause }；{ $detail }）：内核视图（以及其他程序的套接字调用）需要 root，或 CAP_PERFMON 加上可读的 tracefs
cli-tracefs-root-only = { $root } 只有 root 可读
cli-calls-off = 其他程序的套接字调用无法显示：{ $error }
cli-kernel-before-none = 内核视图：抓包开始前，端口 { $port } 上没有套接字
cli-kernel-before = 内核视图：抓包开始前，端口 { $port } 上有：{ $states }

## 实时 trace 的提示行。
cli-capturing = synack：正在 { $interface } 上抓包，TCP 和 UDP 端口 { $port }（按 Ctrl-C 停止）
cli-said = synack：{ $line }
cli-pcap-no-kernel = synack：.pcap 录制文件存不下内核视图的状态变化；要保留它们，请写成 .pcapng
cli-captured = synack：抓到 { $frames } 帧，内核丢弃 { $drops } 帧，写出 { $written } 个连接{ $flows }
cli-udp-flows = ，{ $n } 个 UDP 流
cli-kernel-summary = synack：内核视图：{ $changes } 次状态变化；内核环形缓冲区丢失 { $lost } 次；{ $unmatched } 次没能对应到任何连接
cli-recorded = synack：已把 { $frames } 帧录制到 { $path }

## 没能解码的帧（文件或抓包的小结）。
cli-undecoded = { $total } 帧无法解码：{ $kinds }
cli-not-decoded = { $total } 帧未解码：{ $kinds }
cli-decode-truncated-link = 链路层首部不完整
cli-decode-bad-ip-version = IP 版本号不对
cli-decode-truncated-ipv4 = IPv4 首部不完整
cli-decode-bad-ipv4-header-length = IPv4 首部长度不对
cli-decode-bad-ipv4-total-length = IPv4 总长度不对
cli-decode-ipv4-fragment = IPv4 分片
cli-decode-truncated-ipv6 = IPv6 首部不完整
cli-decode-bad-ipv6-extension = IPv6 扩展首部有误
cli-decode-ipv6-fragment = IPv6 分片
cli-decode-truncated-tcp = TCP 首部不完整
cli-decode-bad-tcp-data-offset = TCP 数据偏移不对
cli-decode-in = { $what }
cli-decode-count = { $kind }（{ $n } 帧）
cli-undecoded-link-type = 链路类型 { $n }
cli-undecoded-ethertype = 以太网类型 { $t }
cli-undecoded-gre = GRE 协议 { $t }
cli-undecoded-gtp-c = GTP-C 信令
cli-undecoded-esp = 加密的 IPsec ESP
cli-undecoded-macsec = 加密的 MACsec
cli-undecoded-80211 = 受保护（加密）的 802.11 帧
cli-undecoded-mpls = 载荷不是 IP 的 MPLS
cli-undecoded-too-deep = 超过 16 层的嵌套
cli-undecoded-arcnet = ARCNET 分片
cli-kinds-gap = ，
cli-fragments = { $n } 个 IP 分片所属的数据报始终没有拼齐，未解码
cli-bad-calls = 录制文件中 { $n } 条套接字调用记录格式有误，已跳过（其中的报文段都已读取）
cli-calls-dropped = 录制文件中 { $n } 个套接字调用被丢弃：两帧之间超过 { $held } 个

## synack serve 与 client。
cli-serve-exposed = synack：警告：{ $addr } 从本机以外也能访问；这个回显服务器是教学用的（谁来都应答，还听从对方的控制命令）：最好用 127.0.0.1
cli-serve-listening = synack：回显服务器正在 { $addr } 上监听（按 Ctrl-C 停止）
cli-serve-udp = synack：同时在 { $addr } 上应答 UDP（recvfrom、sendto；每秒最多应答 { $rate } 次）
cli-serve-udp-taken = synack：UDP { $addr } 已被占用：udp 场景将收不到应答
cli-serve-stopped = synack：回显服务器已停止
cli-client-failed = 到 { $addr } 的 { $repeat } 个连接中有 { $failed } 个失败：{ $error }
cli-client-hint = （'synack serve' 在运行吗？）
cli-client-reply = { $name }：回复 { $reply }{ $retries }
cli-client-refused = { $name }：连接被拒绝，符合预期
cli-client-unreachable = { $name }：向 { $to } 发送了 { $sent } 字节（send 成功了：UDP 无从知道有没有程序在收）；那里没有程序监听，对方回了 ICMP 端口不可达，于是下一次 recv 失败，错误码是 ECONNREFUSED，符合预期
cli-client-load = { $name }：{ $secs } 秒内向 { $addr } 建立了 { $ok } 个连接（每秒 { $rate } 个），失败 { $failed } 个{ $retries }
cli-client-at-once = （另有 { $n } 个连接同时发起）
cli-client-retried = （另有 { $n } 个连接关闭时 FIN 没有交叉）

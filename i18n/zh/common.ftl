# 各视图共用的词。编号: common-*。
# 参数: $role 为 "client" 或 "server"; $n 为整数。

common-role = { $role ->
    [client] 客户端
   *[server] 服务器
}
common-role-cap = { $role ->
    [client] 客户端
   *[server] 服务器
}
common-segments = { $n } 个报文段

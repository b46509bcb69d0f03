# Words every view shares. Ids: common-*.
# Arguments: $role is "client" or "server"; $n a whole number.

common-role = { $role ->
    [client] the client
   *[server] the server
}
common-role-cap = { $role ->
    [client] The client
   *[server] The server
}
common-segments = { $n ->
    [one] { $n } segment
   *[other] { $n } segments
}

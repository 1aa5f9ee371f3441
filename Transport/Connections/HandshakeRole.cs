namespace FlowOrleans.Transport.Connections;

/// <summary>Which side of a connection this is; it decides flow-id parity, key direction and who signs what.</summary>
public enum HandshakeRole : byte
{
    Dialer = 0,
    Acceptor = 1,
}

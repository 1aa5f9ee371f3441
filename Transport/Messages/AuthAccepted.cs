namespace FlowOrleans.Transport.Messages;

/// <summary>The acceptor's last handshake message: it verified and authorized the dialer.</summary>
public sealed record AuthAccepted : Message
{
    internal static readonly AuthAccepted Instance = new();

    internal override MessageType Type => MessageType.AuthAccepted;
}

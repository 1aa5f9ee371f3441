namespace FlowOrleans.Transport.Messages;

/// <summary>Asks a proxy to route flows for this server; answered by <see cref="ProxyResponse"/> or <see cref="ProxyErrorResponse"/>.</summary>
public sealed record ProxyServerRequest : Message
{
    internal static readonly ProxyServerRequest Instance = new();

    internal override MessageType Type => MessageType.ProxyServerRequest;
}

namespace FlowOrleans.Transport.Messages;

/// <summary>A proxy's acceptance: the endpoints (v6 strings) at which it now serves the requester.</summary>
public sealed record ProxyResponse(IReadOnlyList<string> Endpoints) : Message
{
    internal override MessageType Type => MessageType.ProxyResponse;
}

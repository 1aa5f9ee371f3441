namespace FlowOrleans.Transport.Messages;

/// <summary>A proxy's refusal of a <see cref="ProxyServerRequest"/>, with the reason.</summary>
public sealed record ProxyErrorResponse(string Error) : Message
{
    internal override MessageType Type => MessageType.ProxyErrorResponse;
}

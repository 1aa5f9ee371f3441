namespace FlowOrleans.Transport.Messages;

/// <summary>Answers a <see cref="HealthCheckRequest"/> with its nonce.</summary>
public sealed record HealthCheckResponse(ulong Nonce) : Message
{
    internal override MessageType Type => MessageType.HealthCheckResponse;
}

namespace FlowOrleans.Transport.Messages;

/// <summary>Asks the peer to prove it is alive; the response echoes <paramref name="Nonce"/> so RTT can be measured.</summary>
public sealed record HealthCheckRequest(ulong Nonce) : Message
{
    internal override MessageType Type => MessageType.HealthCheckRequest;
}

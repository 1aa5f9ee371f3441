namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// What <see cref="ProtocolRegistry.RegisterUnknown"/> registers for the empty protocol: forwards every call with
/// the chosen protocol name in place of the empty one.
/// </summary>
internal sealed class UnknownProtocolAdapter(string protocol, IProtocol inner) : IProtocol
{
    public string Protocol { get; } = protocol;

    public IProtocol Inner { get; } = inner;

    public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default) =>
        Inner.DialAsync(Protocol, address, timeout, ct);

    public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default) =>
        Inner.ResolveAsync(Protocol, address, ct);

    public ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default) =>
        Inner.ListenAsync(Protocol, address, ct);
}

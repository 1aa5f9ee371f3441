namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// A network protocol that can dial, resolve and listen: the C# form of Vanadium's <c>flow.Protocol</c>.
/// Register implementations in a <see cref="ProtocolRegistry"/>.
/// </summary>
public interface IProtocol
{
    /// <summary>Dials <paramref name="address"/> and returns a framed connection.</summary>
    /// <param name="protocol">The actual protocol to use (one implementation may serve several, e.g. tcp, tcp4, tcp6).</param>
    /// <param name="address">A protocol-specific address.</param>
    /// <param name="timeout">The limit for the whole dial; <see cref="TimeSpan.Zero"/> or <see cref="Timeout.InfiniteTimeSpan"/> for none.</param>
    /// <param name="ct">Cancels the dial.</param>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.DialFailed"/> for any failure, the timeout included; <see cref="FlowErrorCode.Aborted"/> on cancellation.</exception>
    ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default);

    /// <summary>Normalizes an address, e.g. by DNS resolution, into the addresses it stands for.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.ResolveFailed"/> for any failure; <see cref="FlowErrorCode.Aborted"/> on cancellation.</exception>
    ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default);

    /// <summary>Binds a listener to <paramref name="address"/>.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/> for a malformed address; <see cref="FlowErrorCode.Network"/> when binding fails (e.g. the address is in use).</exception>
    ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default);
}

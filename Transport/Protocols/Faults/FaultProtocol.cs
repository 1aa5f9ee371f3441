using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Transport.Protocols.Faults;

/// <summary>
/// A protocol that wraps a real one and injects faults into its connections: cuts and resets after a number of bytes,
/// delays, writes split into small pieces, flipped bytes and stalled reads, as a <see cref="FaultPlan"/> says per
/// connection. For reliability and chaos tests; never registered by default: register it explicitly, under a name of
/// its own (<see cref="ProtocolName"/>) in the registry of every manager that should speak it, e.g.
/// <c>registry.Register("fault", new FaultProtocol(new TcpProtocol(), "tcp", plans))</c>.
/// </summary>
/// <remarks>
/// Both ends must use it: each connection carries a byte stream framed exactly like a socket's (4-byte length prefix,
/// payload) in pieces over the wrapped protocol's frames, and the faults act on that stream, so the real framing code
/// (<c>PipeFramedConnection</c>) meets a stream cut inside a frame, a flipped length prefix or one byte at a time,
/// just as it would on a socket, whichever protocol is underneath.
/// </remarks>
public sealed class FaultProtocol : IProtocol
{
    /// <summary>The name the tests and tools register it under.</summary>
    public const string ProtocolName = "fault";

    private readonly IProtocol _inner;
    private readonly string _innerProtocol;
    private readonly Func<FaultConnectionInfo, FaultPlan> _plans;
    private readonly FramingOptions _options;
    private readonly TimeProvider _time;
    private readonly FaultCounters _counters = new();
    private long _connections;

    /// <param name="inner">The protocol that carries the connections.</param>
    /// <param name="innerProtocol">The name to dial and listen with on <paramref name="inner"/>, e.g. <c>tcp</c> or <c>memory</c>.</param>
    /// <param name="plans">The faults of each connection; null injects none.</param>
    /// <param name="options">Framing of the stream the faults act on; null for the defaults. Validated and copied.</param>
    /// <param name="timeProvider">The clock of delays and stalls; null for the system clock.</param>
    public FaultProtocol(
        IProtocol inner,
        string innerProtocol,
        Func<FaultConnectionInfo, FaultPlan>? plans = null,
        FramingOptions? options = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentException.ThrowIfNullOrEmpty(innerProtocol);
        _inner = inner;
        _innerProtocol = innerProtocol;
        _plans = plans ?? (_ => FaultPlan.None);
        _options = (options ?? new FramingOptions()).ValidatedCopy();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Connections made so far, dialed and accepted.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>The send and receive loops of live connections (two each): zero once every connection is disposed.</summary>
    public long RunningPumps => _counters.RunningPumps;

    /// <summary>Connections whose reads are stalled right now by their plan.</summary>
    public long StalledReaders => _counters.StalledReaders;

    /// <inheritdoc />
    public async ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);
        var link = await _inner.DialAsync(_innerProtocol, address, timeout, ct).ConfigureAwait(false);
        return await WrapAsync(link, protocol, dialed: true, address).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var resolved = await _inner.ResolveAsync(_innerProtocol, address, ct).ConfigureAwait(false);
        return new ResolvedAddresses(protocol, resolved.Addresses);
    }

    /// <inheritdoc />
    public async ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var listener = await _inner.ListenAsync(_innerProtocol, address, ct).ConfigureAwait(false);
        return new FaultListener(this, listener, protocol);
    }

    /// <summary>Puts the faulty stream on <paramref name="link"/>; disposes the link when the plan is invalid.</summary>
    internal async ValueTask<IFramedConnection> WrapAsync(IFramedConnection link, string protocol, bool dialed, string address)
    {
        FaultPlan plan;
        try
        {
            var index = Interlocked.Increment(ref _connections) - 1;
            plan = _plans(new FaultConnectionInfo(dialed, index, address)) ?? FaultPlan.None;
            plan.Validate();
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var transport = new FaultTransport(link, plan, _options, _time, _counters);
        transport.Start();
        return new PipeFramedConnection(transport, protocol, _options.MaxFrameSize);
    }
}

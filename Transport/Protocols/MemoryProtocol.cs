using System.Collections.Concurrent;
using System.Globalization;
using FlowOrleans.Transport.Protocols.Framing;
using FlowOrleans.Transport.Protocols.Memory;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// An in-process network for tests. Each instance has its own address table, so tests using separate instances
/// never see each other. Addresses are names; listening on <c>""</c> or <c>":0"</c> picks a fresh unique name.
/// A connection is a pair of pipes framed exactly like a socket connection.
/// </summary>
public sealed class MemoryProtocol : IProtocol
{
    /// <summary>The protocol name this implementation is meant to be registered under.</summary>
    public const string ProtocolName = "memory";

    private readonly ConcurrentDictionary<string, MemoryListener> _listeners = new(StringComparer.Ordinal);
    private readonly FramingOptions _options;
    private long _lastId;

    /// <summary>Creates an empty network; <paramref name="options"/> is validated and copied.</summary>
    public MemoryProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
    }

    /// <inheritdoc />
    public async ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        using var attempt = new DialAttempt(protocol, address, timeout, ct);
        if (!_listeners.TryGetValue(address, out MemoryListener? listener))
        {
            throw attempt.Failure("nothing listens on that name");
        }

        var clientAddress = new MemoryEndPoint(string.Create(CultureInfo.InvariantCulture, $"{address}#{NextId()}"));
        var (clientEnd, serverEnd) = MemoryTransport.CreatePair(_options, clientAddress, listener.LocalAddress!);
        var client = new PipeFramedConnection(clientEnd, protocol, _options.MaxFrameSize);
        var server = new PipeFramedConnection(serverEnd, listener.Protocol, _options.MaxFrameSize);
        try
        {
            if (await listener.OfferAsync(server, attempt.Token).ConfigureAwait(false))
            {
                return client;
            }

            throw attempt.Failure("the listener closed");
        }
        catch (Exception e)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            await client.DisposeAsync().ConfigureAwait(false);
            throw attempt.Failure(e);
        }
    }

    /// <inheritdoc />
    public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);
        return new ValueTask<ResolvedAddresses>(new ResolvedAddresses(protocol, [address]));
    }

    /// <inheritdoc />
    public ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        bool pickName = address.Length == 0 || address == ":0";
        while (true)
        {
            string name = pickName
                ? string.Create(CultureInfo.InvariantCulture, $"{ProtocolName}-{NextId()}")
                : address;
            var listener = new MemoryListener(protocol, name, _options.ListenBacklog, Remove);
            if (_listeners.TryAdd(name, listener))
            {
                return new ValueTask<IProtocolListener>(listener);
            }

            if (!pickName)
            {
                return ValueTask.FromException<IProtocolListener>(
                    new FlowException(FlowErrorCode.Network, $"Cannot listen on {protocol} address \"{address}\": the address is in use."));
            }
        }
    }

    private long NextId() => Interlocked.Increment(ref _lastId);

    private void Remove(MemoryListener listener) =>
        _listeners.TryRemove(new KeyValuePair<string, MemoryListener>(listener.Address, listener));
}

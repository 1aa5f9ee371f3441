using System.Collections.Concurrent;
using System.Net;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// The built-in protocols behind a recorder: every dial and listen a silo attempts is written down, and only loopback
/// addresses and unix paths reach the real protocol. Anything else fails as a refused dial without a packet sent, so a
/// policy that wrongly let a dial through shows up in <see cref="Dials"/> and never touches another machine.
/// </summary>
internal sealed class RecordingProtocols
{
    private readonly ConcurrentQueue<string> _dials = new();
    private readonly ConcurrentQueue<string> _listens = new();

    public RecordingProtocols()
    {
        var real = ProtocolRegistry.CreateDefault();
        Registry = new ProtocolRegistry();
        foreach (var name in new[] { "tcp", "tcp4", "tcp6", "unix", "ws", "ws4", "ws6", "wsh", "wsh4", "wsh6" })
        {
            var (impl, actual) = real.Get(name);
            Registry.Register(name, new Recorder(this, impl), [.. actual]);
        }

        var (tcp, _) = real.Get("tcp");
        Registry.RegisterUnknown("tcp", new Recorder(this, tcp));
    }

    public ProtocolRegistry Registry { get; }

    /// <summary>Every <c>protocol/address</c> dialed, in order.</summary>
    public IReadOnlyCollection<string> Dials => _dials;

    /// <summary>Every <c>protocol/address</c> listened on, in order.</summary>
    public IReadOnlyCollection<string> Listens => _listens;

    private static bool StaysOnThisMachine(string protocol, string address)
    {
        if (protocol == "unix")
        {
            return true;
        }

        var colon = address.LastIndexOf(':');
        var host = colon > 0 ? address[..colon].Trim('[', ']') : address;
        return host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    private sealed class Recorder(RecordingProtocols owner, IProtocol inner) : IProtocol
    {
        public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
        {
            owner._dials.Enqueue(protocol + "/" + address);
            return StaysOnThisMachine(protocol, address)
                ? inner.DialAsync(protocol, address, timeout, ct)
                : ValueTask.FromException<IFramedConnection>(new FlowException(FlowErrorCode.DialFailed, $"The test network has no {address}."));
        }

        public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default) =>
            inner.ResolveAsync(protocol, address, ct);

        public ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
        {
            owner._listens.Enqueue(protocol + "/" + address);
            return StaysOnThisMachine(protocol, address)
                ? inner.ListenAsync(protocol, address, ct)
                : ValueTask.FromException<IProtocolListener>(new FlowException(FlowErrorCode.Network, $"The test network has no {address}."));
        }
    }
}

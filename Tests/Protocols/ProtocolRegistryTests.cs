using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>Registration semantics mirroring Vanadium's RegisterProtocol family.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class ProtocolRegistryTests
{
    [Fact]
    public void RegisteringReportsWhetherItReplacedAnEntry()
    {
        var registry = new ProtocolRegistry();
        var first = new RecordingProtocol();
        var second = new RecordingProtocol();

        Assert.False(registry.Register("x", first));
        Assert.True(registry.Register("x", second));

        Assert.True(registry.TryGet("x", out IProtocol? found, out _));
        Assert.Same(second, found);
    }

    [Fact]
    public void ANameStandsForItsActualProtocolsOrJustItself()
    {
        var registry = new ProtocolRegistry();
        var impl = new RecordingProtocol();
        registry.Register("wsh", impl, "tcp4", "tcp6", "ws4", "ws6");
        registry.Register("single", impl);

        Assert.Equal(["tcp4", "tcp6", "ws4", "ws6"], registry.Get("wsh").ActualProtocols);
        Assert.Equal(["single"], registry.Get("single").ActualProtocols);
    }

    [Fact]
    public void UnknownProtocolsAreNotFound()
    {
        var registry = new ProtocolRegistry();

        Assert.False(registry.TryGet("nope", out IProtocol? impl, out IReadOnlyList<string> actual));
        Assert.Null(impl);
        Assert.Empty(actual);
        FlowException e = Assert.Throws<FlowException>(() => registry.Get("nope"));
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        Assert.Contains("nope", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheEmptyProtocolNeedsItsNamedProtocolRegisteredFirst()
    {
        var registry = new ProtocolRegistry();
        Assert.Throws<InvalidOperationException>(() => registry.RegisterUnknown("tcp", new RecordingProtocol()));
        Assert.False(registry.TryGet(string.Empty, out _, out _));
        Assert.Throws<ArgumentException>(() => registry.Register(string.Empty, new RecordingProtocol()));
    }

    [Fact]
    public async Task TheEmptyProtocolForwardsCallsUnderItsNamedProtocol()
    {
        var registry = new ProtocolRegistry();
        var impl = new RecordingProtocol();
        registry.Register("tcp", impl, "tcp4", "tcp6");
        registry.RegisterUnknown("tcp", impl);

        var (unknown, actual) = registry.Get(string.Empty);
        Assert.Equal(["tcp4", "tcp6"], actual);

        await unknown.DialAsync(string.Empty, "a:1", TimeSpan.Zero, Ct);
        await unknown.ResolveAsync(string.Empty, "b:2", Ct);
        await unknown.ListenAsync(string.Empty, "c:3", Ct);
        Assert.Equal(["dial tcp a:1", "resolve tcp b:2", "listen tcp c:3"], impl.Calls);
    }

    [Fact]
    public void RegisteringTheEmptyProtocolTellsWhetherItReplacedOne()
    {
        // Vanadium: RegisterUnknownProtocol returns whether a protocol was already registered for endpoints without one.
        var registry = new ProtocolRegistry();
        var impl = new RecordingProtocol();
        registry.Register("a", impl);
        Assert.False(registry.RegisterUnknown("a", impl));
        Assert.True(registry.RegisterUnknown("a", new RecordingProtocol()));
        Assert.True(ProtocolRegistry.CreateDefault().RegisterUnknown("tcp4", impl));
    }

    [Fact]
    public void RegisteredProtocolsListsEveryNameSorted()
    {
        var registry = new ProtocolRegistry();
        var impl = new RecordingProtocol();
        registry.Register("b", impl);
        registry.Register("a", impl);
        registry.Register("b", impl);
        Assert.Equal(["a", "b"], registry.RegisteredProtocols);

        registry.RegisterUnknown("a", impl);
        Assert.Equal([string.Empty, "a", "b"], registry.RegisteredProtocols);
    }

    [Fact]
    public void TheDefaultRegistryHoldsTheBuiltIns()
    {
        ProtocolRegistry registry = ProtocolRegistry.Default;
        Assert.Equal([string.Empty, "tcp", "tcp4", "tcp6", "unix", "ws", "ws4", "ws6", "wsh", "wsh4", "wsh6"], registry.RegisteredProtocols);
        Assert.Equal(["tcp4", "tcp6"], registry.Get("tcp").ActualProtocols);
        Assert.Equal(["tcp4"], registry.Get("tcp4").ActualProtocols);
        Assert.Equal(["tcp6"], registry.Get("tcp6").ActualProtocols);
        Assert.Equal(["unix"], registry.Get("unix").ActualProtocols);
        Assert.Equal(["tcp4", "tcp6"], registry.Get(string.Empty).ActualProtocols);
        Assert.Equal(["ws4", "ws6"], registry.Get("ws").ActualProtocols);
        Assert.Equal(["tcp4", "tcp6", "ws4", "ws6"], registry.Get("wsh").ActualProtocols);
        Assert.Equal(["tcp4", "ws4"], registry.Get("wsh4").ActualProtocols);
        Assert.IsType<WebSocketProtocol>(registry.Get("ws6").Protocol);
        Assert.IsType<WebSocketHybridProtocol>(registry.Get("wsh").Protocol);
        Assert.IsType<TcpProtocol>(registry.Get("tcp").Protocol);
        Assert.IsType<UnixProtocol>(registry.Get("unix").Protocol);
    }

    [Fact]
    public async Task TheEmptyProtocolOfTheDefaultsDialsTcp()
    {
        ProtocolRegistry registry = ProtocolRegistry.CreateDefault();
        await using IProtocolListener listener = await Within(registry.Get("tcp").Protocol.ListenAsync("tcp", "127.0.0.1:0", Ct));
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();

        await using IFramedConnection client = await Within(registry.Get(string.Empty).Protocol.DialAsync(string.Empty, listener.Address, HangLimit, Ct));
        await using IFramedConnection server = await Within(accepted);
        Assert.Equal("tcp", client.Protocol);
    }

    [Fact]
    public async Task ConcurrentRegistrationsAndLookupsAreSafe()
    {
        var registry = new ProtocolRegistry();
        var impl = new RecordingProtocol();
        Task[] workers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(
            () =>
            {
                for (int i = 0; i < 200; i++)
                {
                    registry.Register($"p{w}-{i}", impl);
                    Assert.True(registry.TryGet($"p{w}-{i}", out _, out _));
                    _ = registry.RegisteredProtocols;
                }
            },
            Ct))];
        await Within(Task.WhenAll(workers));
        Assert.Equal(800, registry.RegisteredProtocols.Count);
    }

    private sealed class RecordingProtocol : IProtocol
    {
        public List<string> Calls { get; } = [];

        public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
        {
            Calls.Add($"dial {protocol} {address}");
            return new ValueTask<IFramedConnection>((IFramedConnection)null!);
        }

        public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
        {
            Calls.Add($"resolve {protocol} {address}");
            return new ValueTask<ResolvedAddresses>(new ResolvedAddresses(protocol, [address]));
        }

        public ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
        {
            Calls.Add($"listen {protocol} {address}");
            return new ValueTask<IProtocolListener>((IProtocolListener)null!);
        }
    }
}

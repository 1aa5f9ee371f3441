using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>The in-process network: naming, isolation and the listener's lifecycle.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class MemoryProtocolTests
{
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task EachInstanceIsItsOwnNetwork()
    {
        var first = new MemoryProtocol();
        var second = new MemoryProtocol();
        await using IProtocolListener listener = await Within(first.ListenAsync("memory", "svc", Ct));

        await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(second.DialAsync("memory", "svc", DialTimeout, Ct)));
        await using IProtocolListener sameNameElsewhere = await Within(second.ListenAsync("memory", "svc", Ct));
    }

    [Theory]
    [InlineData("")]
    [InlineData(":0")]
    public async Task EmptyOrZeroAddressesGetFreshUniqueNames(string address)
    {
        var memory = new MemoryProtocol();
        await using IProtocolListener a = await Within(memory.ListenAsync("memory", address, Ct));
        await using IProtocolListener b = await Within(memory.ListenAsync("memory", address, Ct));

        Assert.NotEqual(a.Address, b.Address);
        Assert.False(string.IsNullOrEmpty(a.Address));
        Assert.NotEqual(":0", a.Address);
    }

    [Fact]
    public async Task ANameInUseIsANetworkErrorUntilItsListenerIsDisposed()
    {
        var memory = new MemoryProtocol();
        IProtocolListener listener = await Within(memory.ListenAsync("memory", "svc", Ct));

        await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(memory.ListenAsync("memory", "svc", Ct)));

        await listener.DisposeAsync();
        await using IProtocolListener again = await Within(memory.ListenAsync("memory", "svc", Ct));
    }

    [Fact]
    public async Task DialingAnUnknownNameFailsWithDialFailed()
    {
        var memory = new MemoryProtocol();
        FlowException e = await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(memory.DialAsync("memory", "nobody", DialTimeout, Ct)));
        Assert.Contains("nobody", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DialingAFullBacklogTimesOutWithDialFailed()
    {
        var memory = new MemoryProtocol(new FramingOptions { ListenBacklog = 1 });
        await using IProtocolListener listener = await Within(memory.ListenAsync("memory", "svc", Ct));
        await using IFramedConnection queued = await Within(memory.DialAsync("memory", "svc", DialTimeout, Ct));

        FlowException e = await ThrowsFlowAsync(
            FlowErrorCode.DialFailed,
            () => Within(memory.DialAsync("memory", "svc", TimeSpan.FromMilliseconds(50), Ct)));
        Assert.Contains("timed out", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposingTheListenerFailsPendingAcceptsAndClosesUnacceptedConnections()
    {
        var memory = new MemoryProtocol();
        IProtocolListener listener = await Within(memory.ListenAsync("memory", "svc", Ct));
        await using IFramedConnection unaccepted = await Within(memory.DialAsync("memory", "svc", DialTimeout, Ct));

        await listener.DisposeAsync();

        Assert.True((await Within(unaccepted.ReadFrameAsync(Ct))).IsCompleted);
        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(listener.AcceptAsync(Ct)));
        await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(memory.DialAsync("memory", "svc", DialTimeout, Ct)));
    }

    [Fact]
    public async Task APendingAcceptFailsWithAbortedWhenTheListenerIsDisposed()
    {
        var memory = new MemoryProtocol();
        IProtocolListener listener = await Within(memory.ListenAsync("memory", "svc", Ct));
        ValueTask<IFramedConnection> pending = listener.AcceptAsync(Ct);

        await listener.DisposeAsync();

        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
    }

    [Fact]
    public async Task AbortingOneEndIsAResetForTheOther()
    {
        await using ConnectedPair pair = await ConnectedPair.CreateAsync("memory");
        ValueTask<FrameReadResult> peerRead = pair.Server.ReadFrameAsync(Ct);

        pair.Client.Abort();

        await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(peerRead));
        WriteFrame(pair.Server, [1]);
        await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(pair.Server.FlushAsync(Ct)));
    }

    [Fact]
    public async Task ResolveKeepsTheName()
    {
        ResolvedAddresses resolved = await Within(new MemoryProtocol().ResolveAsync("memory", "svc", Ct));
        Assert.Equal("memory", resolved.Protocol);
        Assert.Equal(["svc"], resolved.Addresses);
    }
}

using System.Net;
using System.Net.Sockets;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>Dial, resolve and listen behaviour of tcp, tcp4 and tcp6 over real sockets.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class TcpProtocolTests
{
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);
    private readonly TcpProtocol _tcp = new();

    [Fact]
    public async Task DialingAClosedPortFailsWithDialFailed()
    {
        string address;
        await using (IProtocolListener listener = await Within(_tcp.ListenAsync("tcp", "127.0.0.1:0", Ct)))
        {
            address = listener.Address;
        }

        FlowException e = await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(_tcp.DialAsync("tcp", address, DialTimeout, Ct)));
        Assert.Contains(address, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DialingAnUnknownHostFailsWithDialFailed()
    {
        FlowException e = await ThrowsFlowAsync(
            FlowErrorCode.DialFailed,
            () => Within(_tcp.DialAsync("tcp", "no-such-host.invalid:80", DialTimeout, Ct)));
        Assert.Contains("no-such-host.invalid", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DialThatCannotCompleteInTimeFailsWithDialFailed()
    {
        // A listener that never accepts: once its accept queue is full, further connection attempts go unanswered
        // and only the timeout can end the dial.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(0);
        string address = silent.LocalEndPoint!.ToString()!;
        var queued = new List<IFramedConnection>();
        try
        {
            FlowException? failure = null;
            while (failure is null && queued.Count < 256)
            {
                try
                {
                    queued.Add(await Within(_tcp.DialAsync("tcp", address, TimeSpan.FromMilliseconds(250), Ct)));
                }
                catch (FlowException e)
                {
                    failure = e;
                }
            }

            Assert.NotNull(failure);
            Assert.Equal(FlowErrorCode.DialFailed, failure.Code);
            Assert.Contains("timed out", failure.Message, StringComparison.Ordinal);
            Assert.Contains(address, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (IFramedConnection connection in queued)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task CancellingADialReportsAborted()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(_tcp.DialAsync("tcp", "127.0.0.1:1", DialTimeout, cancelled.Token)));
    }

    [Theory]
    [InlineData("tcp", "no-colon")]
    [InlineData("tcp", "host:port")]
    [InlineData("tcp", "host:70000")]
    [InlineData("tcp", "::1:80")]
    [InlineData("tcp", "[127.0.0.1]:80")]
    [InlineData("tcp4", "[::1]:80")]
    [InlineData("tcp6", "127.0.0.1:80")]
    [InlineData("udp", "127.0.0.1:80")]
    public async Task MalformedOrMismatchedAddressesAreRejectedByEveryOperation(string protocol, string address)
    {
        await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(_tcp.DialAsync(protocol, address, DialTimeout, Ct)));
        await ThrowsFlowAsync(FlowErrorCode.ResolveFailed, () => Within(_tcp.ResolveAsync(protocol, address, Ct)));
        FlowException e = await Assert.ThrowsAsync<FlowException>(() => Within(_tcp.ListenAsync(protocol, address, Ct)));
        Assert.True(e.Code is FlowErrorCode.BadArg or FlowErrorCode.ResolveFailed, e.ToString());
        Assert.Contains(address, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp", "127.0.0.1:5000", "127.0.0.1:5000")]
    [InlineData("tcp", "[::1]:5000", "[::1]:5000")]
    [InlineData("tcp", "[::ffff:127.0.0.1]:5000", "127.0.0.1:5000")]
    [InlineData("tcp4", "localhost:5000", "127.0.0.1:5000")]
    [InlineData("tcp", ":5000", ":5000")]
    public async Task ResolveNormalizesAddresses(string protocol, string address, string expected)
    {
        ResolvedAddresses resolved = await Within(_tcp.ResolveAsync(protocol, address, Ct));
        Assert.Equal(protocol, resolved.Protocol);
        Assert.Contains(expected, resolved.Addresses);
        Assert.All(resolved.Addresses, a => Assert.EndsWith(":5000", a, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResolvingAnUnknownHostFailsWithResolveFailed()
    {
        FlowException e = await ThrowsFlowAsync(FlowErrorCode.ResolveFailed, () => Within(_tcp.ResolveAsync("tcp", "no-such-host.invalid:80", Ct)));
        Assert.Contains("no-such-host.invalid:80", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListeningOnAnAddressInUseIsANetworkError()
    {
        await using IProtocolListener first = await Within(_tcp.ListenAsync("tcp", "127.0.0.1:0", Ct));

        FlowException e = await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(_tcp.ListenAsync("tcp", first.Address, Ct)));
        Assert.Contains(first.Address, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListenerReportsADialableAddressWithTheRealPort()
    {
        await using IProtocolListener listener = await Within(_tcp.ListenAsync("tcp4", ":0", Ct));
        Assert.Equal("tcp4", listener.Protocol);
        var bound = Assert.IsType<IPEndPoint>(listener.LocalAddress);
        Assert.NotEqual(0, bound.Port);
        Assert.Equal($"0.0.0.0:{bound.Port}", listener.Address);

        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        await using IFramedConnection client = await Within(_tcp.DialAsync("tcp4", $"localhost:{bound.Port}", DialTimeout, Ct));
        await using IFramedConnection server = await Within(accepted);
        await SendAsync(client, [42]);
        Assert.Equal(new byte[] { 42 }, await ReceiveAsync(server));
    }

    [Fact]
    public async Task TcpOnTheWildcardServesBothFamilies()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return; // Nothing to check on an IPv4-only host.
        }

        await using IProtocolListener listener = await Within(_tcp.ListenAsync("tcp", ":0", Ct));
        int port = Assert.IsType<IPEndPoint>(listener.LocalAddress).Port;
        foreach (string address in new[] { $"127.0.0.1:{port}", $"[::1]:{port}" })
        {
            Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
            await using IFramedConnection client = await Within(_tcp.DialAsync("tcp", address, DialTimeout, Ct));
            await using IFramedConnection server = await Within(accepted);

            // IPv4 peers of a dual-mode socket are reported as plain IPv4, not as mapped IPv6.
            var remote = Assert.IsType<IPEndPoint>(server.RemoteAddress);
            Assert.False(remote.Address.IsIPv4MappedToIPv6);
            Assert.Equal(Assert.IsType<IPEndPoint>(client.LocalAddress).Address, remote.Address);
        }
    }

    [Fact]
    public async Task DisposingTheListenerFailsPendingAndLaterAcceptsWithAborted()
    {
        IProtocolListener listener = await Within(_tcp.ListenAsync("tcp", "127.0.0.1:0", Ct));
        ValueTask<IFramedConnection> pending = listener.AcceptAsync(Ct);
        Assert.False(pending.IsCompleted);

        await listener.DisposeAsync();

        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(listener.AcceptAsync(Ct)));
        await listener.DisposeAsync(); // idempotent
    }

    [Fact]
    public async Task CancellingAnAcceptReportsAbortedAndTheListenerKeepsWorking()
    {
        await using IProtocolListener listener = await Within(_tcp.ListenAsync("tcp", "127.0.0.1:0", Ct));
        using (var cancel = new CancellationTokenSource())
        {
            ValueTask<IFramedConnection> pending = listener.AcceptAsync(cancel.Token);
            await cancel.CancelAsync();
            await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
        }

        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        await using IFramedConnection client = await Within(_tcp.DialAsync("tcp", listener.Address, DialTimeout, Ct));
        await using IFramedConnection server = await Within(accepted);
    }
}

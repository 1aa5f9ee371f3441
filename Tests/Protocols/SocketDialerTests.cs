using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.Framing;
using FlowOrleans.Transport.Protocols.Sockets;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>The one dial path of the socket protocols, with each step replaced by the test.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class SocketDialerTests
{
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AnAddressTheProtocolRejectsFailsWithDialFailedBeforeAnyConnect()
    {
        var dialer = new ScriptedDialer { Problem = "not an address of ours" };

        FlowException e = await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(dialer.DialAsync("test", "somewhere", DialTimeout, Ct)));

        Assert.Contains("test", e.Message, StringComparison.Ordinal);
        Assert.Contains("somewhere", e.Message, StringComparison.Ordinal);
        Assert.Contains("not an address of ours", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, dialer.Connects);
    }

    [Fact]
    public async Task AFailedConnectIsDialFailedCarryingTheSocketError()
    {
        var refused = new SocketException((int)SocketError.ConnectionRefused);
        var dialer = new ScriptedDialer { Connect = _ => throw refused };

        FlowException e = await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(dialer.DialAsync("test", "somewhere", DialTimeout, Ct)));

        Assert.Same(refused, e.InnerException);
    }

    [Fact]
    public async Task AConnectStillPendingWhenTheTimeoutPassesIsDialFailedTimedOut()
    {
        var dialer = new ScriptedDialer { Connect = WaitForeverAsync };

        FlowException e = await ThrowsFlowAsync(
            FlowErrorCode.DialFailed,
            () => Within(dialer.DialAsync("test", "somewhere", TimeSpan.FromMilliseconds(50), Ct)));

        Assert.Contains("timed out", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingAPendingDialIsAborted()
    {
        var dialer = new ScriptedDialer { Connect = WaitForeverAsync };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        Task dial = dialer.DialAsync("test", "somewhere", DialTimeout, cancel.Token).AsTask();
        await Connections.ConnectionTestKit.WaitUntilAsync(() => dialer.Connects == 1);

        await cancel.CancelAsync();

        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(dial));
    }

    [Fact]
    public async Task AWrapThatFailsLeavesTheConnectedSocketClosed()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var dialer = new ScriptedDialer
        {
            Connect = async token =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(server.LocalEndpoint, token);
                return socket;
            },
            Wrap = _ => throw new IOException("upgrade refused"),
        };

        FlowException e = await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(dialer.DialAsync("test", "somewhere", DialTimeout, Ct)));

        Assert.Contains("upgrade refused", e.Message, StringComparison.Ordinal);
        Assert.True(dialer.Connected!.SafeHandle.IsClosed);
        using Socket accepted = await Within(server.AcceptSocketAsync(Ct));
        Assert.Equal(0, await Within(accepted.ReceiveAsync(new byte[1], SocketFlags.None, Ct)));
    }

    [Fact]
    public async Task ByDefaultTheConnectedSocketIsFramedUnderTheDialedProtocol()
    {
        await using IProtocolListener listener = await Within(new TcpProtocol().ListenAsync("tcp", "127.0.0.1:0", Ct));
        var dialer = new ScriptedDialer
        {
            Connect = token => TcpSockets.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalAddress!).Port, AddressFamily.InterNetwork, token),
        };

        await using IFramedConnection client = await Within(dialer.DialAsync("test", "somewhere", DialTimeout, Ct));
        await using IFramedConnection server = await Within(listener.AcceptAsync(Ct));
        await SendAsync(client, [1, 2, 3]);

        Assert.IsType<PipeFramedConnection>(client);
        Assert.Equal("test", client.Protocol);
        Assert.Equal(listener.LocalAddress, client.RemoteAddress);
        Assert.Equal([1, 2, 3], await ReceiveAsync(server));
    }

    [Theory]
    [InlineData("wsh", "tcp")]
    [InlineData("wsh4", "tcp4")]
    public async Task TheHybridProtocolDialsAsTcpUnderTheMatchingName(string hybrid, string tcp)
    {
        await using IProtocolListener listener = await Within(new TcpProtocol().ListenAsync("tcp", "127.0.0.1:0", Ct));

        await using IFramedConnection client = await Within(new WebSocketHybridProtocol().DialAsync(hybrid, listener.Address, DialTimeout, Ct));
        await using IFramedConnection server = await Within(listener.AcceptAsync(Ct));
        await SendAsync(client, [7]);

        Assert.Equal(tcp, client.Protocol);
        Assert.Equal([7], await ReceiveAsync(server));
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("ws")]
    public async Task TheHybridProtocolRefusesNamesThatAreNotHybrid(string protocol)
    {
        FlowException e = await ThrowsFlowAsync(
            FlowErrorCode.DialFailed,
            () => Within(new WebSocketHybridProtocol().DialAsync(protocol, "127.0.0.1:1", DialTimeout, Ct)));

        Assert.Contains("not a hybrid WebSocket protocol", e.Message, StringComparison.Ordinal);
    }

    private static async ValueTask<Socket> WaitForeverAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>A dialer whose steps the test scripts; it records what the dial path did with them.</summary>
    private sealed class ScriptedDialer() : SocketDialer<string>(new FramingOptions().ValidatedCopy())
    {
        private int _connects;

        public string? Problem { get; init; }

        public Func<CancellationToken, ValueTask<Socket>> Connect { get; init; } = _ => throw new SocketException((int)SocketError.HostUnreachable);

        public Func<Socket, ValueTask<IFramedConnection>>? Wrap { get; init; }

        public int Connects => Volatile.Read(ref _connects);

        public Socket? Connected { get; private set; }

        protected override bool TryParse(string protocol, string address, [MaybeNullWhen(false)] out string target, [NotNullWhen(false)] out string? problem)
        {
            target = Problem is null ? address : null;
            problem = Problem;
            return Problem is null;
        }

        protected override async ValueTask<Socket> ConnectAsync(string target, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _connects);
            Connected = await Connect(cancellationToken);
            return Connected;
        }

        protected override ValueTask<IFramedConnection> WrapAsync(Socket socket, string protocol, string target, CancellationToken cancellationToken) =>
            Wrap is null ? base.WrapAsync(socket, protocol, target, cancellationToken) : Wrap(socket);
    }
}

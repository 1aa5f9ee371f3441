using System.Net.Sockets;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>The unix protocol's handling of socket files.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class UnixProtocolTests
{
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);
    private readonly UnixProtocol _unix = new();

    [Fact]
    public async Task ListeningReplacesAStaleSocketFile()
    {
        // A socket file whose listener is gone, as a crashed process leaves it. .NET removes the file of a socket
        // it disposes, so the file is moved away first and the socket closed under its old name.
        string path = ConnectedPair.UnixPath();
        string boundName = ConnectedPair.UnixPath();
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(boundName));
            File.Move(boundName, path);
        }

        Assert.True(File.Exists(path));
        await using IProtocolListener listener = await Within(_unix.ListenAsync("unix", path, Ct));
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        await using IFramedConnection client = await Within(_unix.DialAsync("unix", path, DialTimeout, Ct));
        await using IFramedConnection server = await Within(accepted);
        await SendAsync(client, [1]);
        Assert.Equal(new byte[] { 1 }, await ReceiveAsync(server));
    }

    [Fact]
    public async Task ListeningOnALivePathIsANetworkErrorAndLeavesItAlone()
    {
        string path = ConnectedPair.UnixPath();
        await using IProtocolListener first = await Within(_unix.ListenAsync("unix", path, Ct));

        FlowException e = await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(_unix.ListenAsync("unix", path, Ct)));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);

        Task<IFramedConnection> accepted = first.AcceptAsync(Ct).AsTask();
        await using IFramedConnection client = await Within(_unix.DialAsync("unix", path, DialTimeout, Ct));
        await using IFramedConnection server = await Within(accepted);
    }

    [Fact]
    public async Task ListeningOnARegularFileNeverDeletesIt()
    {
        string path = ConnectedPair.UnixPath();
        await File.WriteAllTextAsync(path, "precious", Ct);
        try
        {
            await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(_unix.ListenAsync("unix", path, Ct)));
            Assert.Equal("precious", await File.ReadAllTextAsync(path, Ct));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task DisposingTheListenerRemovesItsFileAndFailsPendingAccepts()
    {
        string path = ConnectedPair.UnixPath();
        IProtocolListener listener = await Within(_unix.ListenAsync("unix", path, Ct));
        Assert.Equal(path, listener.Address);
        Assert.True(File.Exists(path));
        ValueTask<IFramedConnection> pending = listener.AcceptAsync(Ct);

        await listener.DisposeAsync();

        Assert.False(File.Exists(path));
        await ThrowsFlowAsync(FlowErrorCode.Aborted, () => Within(pending));
    }

    [Fact]
    public async Task DialingAPathNobodyListensOnFailsWithDialFailed()
    {
        string path = ConnectedPair.UnixPath();
        FlowException e = await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(_unix.DialAsync("unix", path, DialTimeout, Ct)));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveKeepsThePath()
    {
        ResolvedAddresses resolved = await Within(_unix.ResolveAsync("unix", "/run/x.sock", Ct));
        Assert.Equal(new ResolvedAddresses("unix", ["/run/x.sock"]).Protocol, resolved.Protocol);
        Assert.Equal(["/run/x.sock"], resolved.Addresses);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/tmp/a-path-far-longer-than-any-platform-allows-for-a-unix-domain-socket-address-so-it-is-rejected-before-use.sock")]
    public async Task UnusablePathsAreRejected(string path)
    {
        await ThrowsFlowAsync(FlowErrorCode.BadArg, () => Within(_unix.ListenAsync("unix", path, Ct)));
        await ThrowsFlowAsync(FlowErrorCode.DialFailed, () => Within(_unix.DialAsync("unix", path, DialTimeout, Ct)));
        await ThrowsFlowAsync(FlowErrorCode.ResolveFailed, () => Within(_unix.ResolveAsync("unix", path, Ct)));
    }
}

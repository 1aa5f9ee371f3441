using System.Net.Sockets;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>
/// Issue 16 item 8: a unix listener replaces what is at its path only if that is a socket refusing connections (the
/// file a crashed listener left). Whatever else is there (a file, however small; a link, even to a stale socket) stays.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class UnixProtocolExistingPathTests
{
    private readonly UnixProtocol _unix = new();

    /// <summary>A socket file nobody listens on any more, as a crashed process leaves it.</summary>
    private static string StaleSocket()
    {
        string path = ConnectedPair.UnixPath();
        string boundName = ConnectedPair.UnixPath();
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(boundName));
        File.Move(boundName, path); // .NET removes the file of a socket it disposes under its bound name
        return path;
    }

    [Fact]
    public async Task AnEmptyRegularFileIsNeverReplaced()
    {
        string path = ConnectedPair.UnixPath();
        await File.WriteAllBytesAsync(path, [], Ct);
        try
        {
            await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(_unix.ListenAsync("unix", path, Ct)));
            var file = new FileInfo(path);
            Assert.True(file.Exists);
            Assert.Equal(0, file.Length);
            Assert.Null(file.LinkTarget);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ALinkToAStaleSocketIsNeverReplaced()
    {
        string target = StaleSocket();
        string path = ConnectedPair.UnixPath();
        File.CreateSymbolicLink(path, target);
        try
        {
            await ThrowsFlowAsync(FlowErrorCode.Network, () => Within(_unix.ListenAsync("unix", path, Ct)));
            Assert.Equal(target, new FileInfo(path).LinkTarget);
        }
        finally
        {
            File.Delete(path);
            File.Delete(target);
        }
    }

    [Fact]
    public async Task AStaleSocketIsReplacedAndTheNewListenerAccepts()
    {
        string path = StaleSocket();
        await using IProtocolListener listener = await Within(_unix.ListenAsync("unix", path, Ct));
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        await using IFramedConnection client = await Within(_unix.DialAsync("unix", path, TimeSpan.FromSeconds(10), Ct));
        await using IFramedConnection server = await Within(accepted);
    }
}

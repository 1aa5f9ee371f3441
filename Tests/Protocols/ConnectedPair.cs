using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>
/// A listener plus one dialed and one accepted connection, for a setup picked by name: a protocol name, or
/// <c>wsh-ws</c> for a WebSocket client of a hybrid listener.
/// </summary>
internal sealed class ConnectedPair : IAsyncDisposable
{
    private ConnectedPair(IProtocolListener listener, IFramedConnection client, IFramedConnection server)
    {
        Listener = listener;
        Client = client;
        Server = server;
    }

    private static readonly byte[] Hello = [0x68, 0x69];

    public IProtocolListener Listener { get; }

    public IFramedConnection Client { get; }

    public IFramedConnection Server { get; }

    /// <summary>The protocol both ends report: hybrid listeners hand out tcp or ws connections.</summary>
    public static string ConnectionProtocol(string kind) => kind switch
    {
        "wsh" => "tcp",
        "wsh-ws" => "ws",
        _ => kind,
    };

    public static IProtocol CreateProtocol(string name, FramingOptions? options = null) => name switch
    {
        "tcp" or "tcp4" or "tcp6" => new TcpProtocol(options),
        "unix" => new UnixProtocol(options),
        "memory" => new MemoryProtocol(options),
        "ws" or "ws4" or "ws6" => new WebSocketProtocol(options),
        "wsh" or "wsh4" or "wsh6" => new WebSocketHybridProtocol(options),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public static string ListenAddress(string protocol) => protocol switch
    {
        "unix" => UnixPath(),
        "memory" => string.Empty,
        _ when protocol.EndsWith('6') => "[::1]:0",
        _ => "127.0.0.1:0",
    };

    /// <summary>A fresh socket path, short enough for the platform's limit.</summary>
    public static string UnixPath() => Path.Combine(Path.GetTempPath(), $"fo-{Guid.NewGuid():N}"[..15] + ".sock");

    public static async Task<ConnectedPair> CreateAsync(string kind, FramingOptions? options = null, FramingOptions? dialerOptions = null)
    {
        (string listenName, string dialName) = kind == "wsh-ws" ? ("wsh", "ws") : (kind, kind);
        IProtocol listening = CreateProtocol(listenName, options);
        IProtocolListener listener = await Within(listening.ListenAsync(listenName, ListenAddress(listenName), Ct));

        // A memory network is one instance: its dialer must share the listener's address table.
        IProtocol dialer = kind == "memory" ? listening : CreateProtocol(dialName, dialerOptions ?? options);
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        IFramedConnection client = await Within(dialer.DialAsync(dialName, listener.Address, HangLimit, Ct));
        if (kind == "wsh")
        {
            // A hybrid listener tells raw clients by their first bytes, so a raw client must speak first
            // (a flow dialer always does: it opens with its setup message).
            await SendAsync(client, Hello);
        }

        IFramedConnection server = await Within(accepted);
        if (kind == "wsh")
        {
            Assert.Equal(Hello, await ReceiveAsync(server));
        }

        return new ConnectedPair(listener, client, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await Listener.DisposeAsync();
    }
}

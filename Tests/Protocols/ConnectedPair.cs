using FlowOrleans.Transport.Protocols;
using static FlowOrleans.Tests.Protocols.ProtocolTestSupport;

namespace FlowOrleans.Tests.Protocols;

/// <summary>A listener plus one dialed and one accepted connection, for a protocol picked by name.</summary>
internal sealed class ConnectedPair : IAsyncDisposable
{
    private ConnectedPair(IProtocol protocol, IProtocolListener listener, IFramedConnection client, IFramedConnection server)
    {
        Protocol = protocol;
        Listener = listener;
        Client = client;
        Server = server;
    }

    public IProtocol Protocol { get; }

    public IProtocolListener Listener { get; }

    public IFramedConnection Client { get; }

    public IFramedConnection Server { get; }

    public static IProtocol CreateProtocol(string kind, FramingOptions? options = null) => kind switch
    {
        "tcp" or "tcp4" or "tcp6" => new TcpProtocol(options),
        "unix" => new UnixProtocol(options),
        "memory" => new MemoryProtocol(options),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static string ListenAddress(string kind) => kind switch
    {
        "tcp" or "tcp4" => "127.0.0.1:0",
        "tcp6" => "[::1]:0",
        "unix" => UnixPath(),
        _ => string.Empty,
    };

    /// <summary>A fresh socket path, short enough for the platform's limit.</summary>
    public static string UnixPath() => Path.Combine(Path.GetTempPath(), $"fo-{Guid.NewGuid():N}"[..15] + ".sock");

    public static async Task<ConnectedPair> CreateAsync(string kind, FramingOptions? options = null, FramingOptions? dialerOptions = null)
    {
        IProtocol protocol = CreateProtocol(kind, options);
        IProtocolListener listener = await Within(protocol.ListenAsync(kind, ListenAddress(kind), Ct));

        // A dialer with its own options; for memory it must share the listener's address table.
        IProtocol dialer = dialerOptions is null || kind == "memory" ? protocol : CreateProtocol(kind, dialerOptions);
        Task<IFramedConnection> accepted = listener.AcceptAsync(Ct).AsTask();
        IFramedConnection client = await Within(dialer.DialAsync(kind, listener.Address, HangLimit, Ct));
        IFramedConnection server = await Within(accepted);
        return new ConnectedPair(protocol, listener, client, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await Listener.DisposeAsync();
    }
}

using System.Threading.Channels;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Connections;

/// <summary>Builds pairs of connected, authenticated peers over a real protocol for connection tests.</summary>
internal static class ConnectionTestKit
{
    /// <summary>Flows each peer of <see cref="ConnectAsync"/> queues for accepting before it refuses more.</summary>
    public const int DefaultAcceptBacklog = 256;

    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    public static Principal NewPrincipal(string name)
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(name);
        return principal;
    }

    public static Endpoint LocalEndpoint(string protocol = "memory", string address = "a") =>
        Endpoint.Create(protocol, address, RoutingId.NewRandom());

    /// <summary>A listener and a dialed framed connection with its accepted twin, over memory, tcp or unix.</summary>
    public static async Task<(IFramedConnection Dialed, IFramedConnection Accepted, IAsyncDisposable Listener)> FramedPairAsync(string protocol)
    {
        IProtocol impl = protocol switch
        {
            "memory" => new MemoryProtocol(),
            "tcp" => new TcpProtocol(),
            _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
        };
        var address = protocol == "tcp" ? "127.0.0.1:0" : "";
        var listener = await impl.ListenAsync(protocol, address);
        var accept = listener.AcceptAsync().AsTask();
        var dialed = await impl.DialAsync(protocol, listener.Address, TestTimeout);
        var accepted = await accept.WaitAsync(TestTimeout);
        return (dialed, accepted, listener);
    }

    /// <summary>
    /// Starts both halves of a handshake over memory without awaiting them, for tests that expect one side to fail.
    /// </summary>
    public static async Task<(Task<ManagedConnection> Dial, Task<ManagedConnection> Accept, IAsyncDisposable Listener)> StartHandshakeAsync(
        Func<Principal, IPeerAuthorizer>? acceptorAuthorizer = null,
        ConnectionOptions? acceptorOptions = null,
        ConnectionOptions? dialerOptions = null,
        Endpoint? remoteEndpoint = null)
    {
        var (dialed, accepted, listener) = await FramedPairAsync("memory");
        var acceptor = NewPrincipal("acceptor");
        var dialer = NewPrincipal("dialer");
        var accept = ManagedConnection.AcceptAsync(accepted, new ConnectionSettings
        {
            Principal = acceptor,
            Authorizer = acceptorAuthorizer?.Invoke(acceptor) ?? PeerAuthorizers.AllowEveryone(acceptor),
            LocalEndpoint = LocalEndpoint(),
            Options = acceptorOptions ?? new ConnectionOptions(),
        });
        var dial = ManagedConnection.ConnectAsync(dialed, new ConnectionSettings
        {
            Principal = dialer,
            Authorizer = PeerAuthorizers.AllowEveryone(dialer),
            LocalEndpoint = LocalEndpoint(),
            RemoteEndpoint = remoteEndpoint,
            Options = dialerOptions ?? new ConnectionOptions(),
        });
        return (dial, accept, listener);
    }

    public static async Task<Peers> ConnectAsync(
        string protocol = "memory",
        Action<ConnectionOptions>? dialerOptions = null,
        Action<ConnectionOptions>? acceptorOptions = null,
        IPeerAuthorizer? dialerAuthorizer = null,
        IPeerAuthorizer? acceptorAuthorizer = null,
        Func<IFramedConnection, IFramedConnection>? wrapDialer = null,
        Func<IFramedConnection, IFramedConnection>? wrapAcceptor = null,
        ulong maxRecords = ulong.MaxValue,
        int dialerAcceptBacklog = DefaultAcceptBacklog,
        int acceptorAcceptBacklog = DefaultAcceptBacklog,
        Principal? dialerPrincipal = null,
        Principal? acceptorPrincipal = null,
        bool dialerPresentsNameless = false)
    {
        var (dialed, accepted, listener) = await FramedPairAsync(protocol);
        var dialer = dialerPrincipal ?? NewPrincipal("dialer");
        var acceptor = acceptorPrincipal ?? NewPrincipal("acceptor");
        var dOptions = new ConnectionOptions();
        dialerOptions?.Invoke(dOptions);
        var aOptions = new ConnectionOptions();
        acceptorOptions?.Invoke(aOptions);
        var dialerAccepts = Channel.CreateBounded<IFlow>(dialerAcceptBacklog);
        var acceptorAccepts = Channel.CreateBounded<IFlow>(acceptorAcceptBacklog);
        var acceptorEndpoint = LocalEndpoint(protocol, "acceptor");
        var acceptTask = ManagedConnection.AcceptAsync(wrapAcceptor?.Invoke(accepted) ?? accepted, new ConnectionSettings
        {
            Principal = acceptor,
            Authorizer = acceptorAuthorizer ?? PeerAuthorizers.AllowEveryone(acceptor),
            LocalEndpoint = acceptorEndpoint,
            Options = aOptions,
            AcceptedFlows = acceptorAccepts.Writer,
            MaxRecords = maxRecords,
        });
        var dialTask = ManagedConnection.ConnectAsync(wrapDialer?.Invoke(dialed) ?? dialed, new ConnectionSettings
        {
            Principal = dialer,
            Authorizer = dialerAuthorizer ?? PeerAuthorizers.AllowEveryone(dialer),
            LocalEndpoint = LocalEndpoint(protocol, "dialer"),
            RemoteEndpoint = acceptorEndpoint,
            Options = dOptions,
            AcceptedFlows = dialerAccepts.Writer,
            MaxRecords = maxRecords,
            PresentNamelessBlessings = dialerPresentsNameless,
        });
        try
        {
            await Task.WhenAll(acceptTask, dialTask).WaitAsync(TestTimeout);
        }
        catch
        {
            await listener.DisposeAsync();
            if (dialTask.IsFaulted)
            {
                await dialTask; // the dialer's own error, not whichever side failed first
            }

            throw;
        }

        return new Peers(await dialTask, await acceptTask, dialerAccepts.Reader, acceptorAccepts.Reader, listener);
    }

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds. Bounded by <paramref name="cancellationToken"/>, or by
    /// <see cref="TestTimeout"/> when none is given; with <paramref name="describe"/>, a timeout fails the test saying
    /// what was seen instead of throwing a bare cancellation.
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Func<string>? describe = null, CancellationToken cancellationToken = default)
    {
        using var timeout = cancellationToken.CanBeCanceled ? null : new CancellationTokenSource(TestTimeout);
        var token = timeout?.Token ?? cancellationToken;
        while (!condition())
        {
            try
            {
                await Task.Delay(5, token);
            }
            catch (OperationCanceledException) when (describe is not null)
            {
                Assert.Fail("Timed out: " + describe());
            }
        }
    }

    public static async Task<byte[]> ReadToEndAsync(IFlow flow, CancellationToken cancellationToken = default)
    {
        var result = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await flow.ReadAsync(buffer, cancellationToken)) > 0)
        {
            result.Write(buffer, 0, n);
        }

        return result.ToArray();
    }

    public static async Task ReadExactlyAsync(IFlow flow, Memory<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var n = await flow.ReadAsync(buffer);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            buffer = buffer[n..];
        }
    }

    /// <summary>Opens a flow from the dialer and has the acceptor accept it (one byte goes across, and is read).</summary>
    public static async Task<(IFlow Flow, IFlow Accepted)> OpenAcceptedAsync(Peers peers)
    {
        var flow = peers.Dialer.OpenFlow();
        await flow.WriteAsync(new byte[] { 0 });
        var accepted = await peers.AcceptorAccepts.ReadAsync().AsTask().WaitAsync(TestTimeout);
        await ReadExactlyAsync(accepted, new byte[1]);
        return (flow, accepted);
    }

    public static async Task AssertClosedCleanAsync(ManagedConnection connection)
    {
        await connection.Closed.WaitAsync(TestTimeout);
        var c = connection.Counters;
        Assert.Equal(0, c.RunningLoops);
        Assert.Equal(0, c.OpenFlows);
        Assert.Equal(0, c.BufferedBytes);
        Assert.Equal(0, c.ReservedWindowBytes);
        Assert.Equal(0, c.OutstandingBuffers);
    }

    /// <summary>Two connected peers and the channels where each receives the flows the other opens.</summary>
    internal sealed record Peers(
        ManagedConnection Dialer,
        ManagedConnection Acceptor,
        ChannelReader<IFlow> DialerAccepts,
        ChannelReader<IFlow> AcceptorAccepts,
        IAsyncDisposable Listener) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Dialer.DisposeAsync();
            await Acceptor.DisposeAsync();
            await Listener.DisposeAsync();
        }
    }
}

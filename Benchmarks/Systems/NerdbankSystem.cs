using System.Net.Sockets;
using Nerdbank.Streams;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// Nerdbank.Streams MultiplexingStream over TLS 1.3 (the fair peer of an encrypted multiplexer) or, as
/// <c>nerdbank-plain</c>, over bare TCP (the multiplexer's own cost). Protocol version 3 is set explicitly because
/// the options default to version 1, which has no flow control.
/// </summary>
internal sealed class NerdbankSystem : IBenchSystem
{
    private readonly LoopbackListener _listener = new();
    private readonly TlsCredentials? _credentials;

    private NerdbankSystem(bool overTls)
    {
        _credentials = overTls ? new TlsCredentials() : null;
    }

    public string Name => _credentials is null ? "nerdbank-plain" : "nerdbank";

    public bool IsMultiplexed => true;

    public static ValueTask<IBenchSystem> StartOverTlsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IBenchSystem>(new NerdbankSystem(overTls: true));

    public static ValueTask<IBenchSystem> StartPlainAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IBenchSystem>(new NerdbankSystem(overTls: false));

    public async ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var (clientTransport, serverTransport) = await ConnectTransportAsync(cancellationToken);
        var options = new MultiplexingStream.Options { ProtocolMajorVersion = 3 };
        var client = MultiplexingStream.CreateAsync(clientTransport, options, cancellationToken);
        var server = MultiplexingStream.CreateAsync(serverTransport, options, cancellationToken);
        try
        {
            await Task.WhenAll(client, server);
        }
        catch
        {
            await clientTransport.DisposeAsync();
            await serverTransport.DisposeAsync();
            throw;
        }

        return new Connection(await client, await server, clientTransport, serverTransport);
    }

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        _credentials?.Dispose();
        return ValueTask.CompletedTask;
    }

    private async ValueTask<(Stream Client, Stream Server)> ConnectTransportAsync(CancellationToken cancellationToken)
    {
        var (client, server) = await _listener.ConnectPairAsync(cancellationToken);
        if (_credentials is null)
        {
            return (new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
        }

        try
        {
            return await _credentials.AuthenticateAsync(client, server, cancellationToken);
        }
        catch
        {
            client.Dispose();
            server.Dispose();
            throw;
        }
    }

    /// <summary>One MultiplexingStream per end over one connection; each flow is a channel offered by the client.</summary>
    private sealed class Connection(
        MultiplexingStream client, MultiplexingStream server, Stream clientTransport, Stream serverTransport) : IBenchConnection
    {
        private long _nextChannel;

        public int TransportConnections => 1;

        public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
        {
            // Unique names pair each offer with its acceptance even when flows are opened concurrently.
            var name = Interlocked.Increment(ref _nextChannel).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var offer = client.OfferChannelAsync(name, cancellationToken);
            var accept = server.AcceptChannelAsync(name, cancellationToken);
            await Task.WhenAll(offer, accept);
            return new FlowPair(new ChannelEnd(await offer), new ChannelEnd(await accept));
        }

        public async ValueTask DisposeAsync()
        {
            await client.DisposeAsync();
            await server.DisposeAsync();

            // The multiplexers stop using their transport streams when disposed; close them in case they leave them open.
            await clientTransport.DisposeAsync();
            await serverTransport.DisposeAsync();
        }
    }

    /// <summary>A channel as a stream; its half-close completes its writer, so the peer's reads end after the last byte.</summary>
    private sealed class ChannelEnd(MultiplexingStream.Channel channel) : FlowEnd(channel.AsStream())
    {
        protected override ValueTask CloseWriteCoreAsync(CancellationToken cancellationToken) => channel.Output.CompleteAsync();

        protected override ValueTask OnDisposedAsync()
        {
            channel.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

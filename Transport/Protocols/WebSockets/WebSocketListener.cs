using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using FlowOrleans.Transport.Protocols.Framing;
using FlowOrleans.Transport.Protocols.Sockets;

namespace FlowOrleans.Transport.Protocols.WebSockets;

/// <summary>
/// Accepts WebSocket connections on a TCP port and, in hybrid mode (<c>wsh</c>), raw framed TCP connections on the
/// same port: a connection whose first bytes are <c>"GET "</c> is a WebSocket upgrade, anything else is raw framing
/// (a length prefix can never spell "GET ", it would exceed every allowed frame size). Handshakes run in the
/// background, at most <see cref="FramingOptions.ListenBacklog"/> at a time and each within
/// <see cref="FramingOptions.HandshakeTimeout"/>, so a silent client never holds up the others.
/// </summary>
internal sealed class WebSocketListener : IProtocolListener
{
    private static ReadOnlySpan<byte> HttpGet => "GET "u8;

    private readonly Socket _socket;
    private readonly FramingOptions _options;
    private readonly bool _hybrid;
    private readonly string _webSocketProtocol;
    private readonly string _rawProtocol;
    private readonly Channel<IFramedConnection> _accepted;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _handshakeSlots;
    private int _disposed;

    public WebSocketListener(
        Socket socket,
        string protocol,
        FramingOptions options,
        bool hybrid,
        string webSocketProtocol,
        string rawProtocol)
    {
        _socket = socket;
        _options = options;
        _hybrid = hybrid;
        _webSocketProtocol = webSocketProtocol;
        _rawProtocol = rawProtocol;
        Protocol = protocol;
        LocalAddress = socket.LocalEndPoint;
        Address = TcpAddress.Format((IPEndPoint)socket.LocalEndPoint!);
        _handshakeSlots = new SemaphoreSlim(options.ListenBacklog, options.ListenBacklog);
        _accepted = Channel.CreateBounded<IFramedConnection>(new BoundedChannelOptions(options.ListenBacklog)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });
        AcceptLoop = AcceptLoopAsync();
    }

    public string Protocol { get; }

    public string Address { get; }

    public EndPoint? LocalAddress { get; }

    /// <summary>The background accept loop; completes once the listener is disposed. Never faults.</summary>
    internal Task AcceptLoop { get; }

    public async ValueTask<IFramedConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw Closed(null);
        }

        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw Volatile.Read(ref _disposed) != 0 || e.InnerException is null
                ? Closed(e)
                : new FlowException(FlowErrorCode.Network, $"Accepting on the {Protocol} listener on {Address} failed: {e.InnerException.Message}", e.InnerException);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Aborted, $"Accepting on the {Protocol} listener on {Address} was cancelled.", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await AcceptLoop.ConfigureAwait(false);

        // Every handshake holds a slot until it ends; owning them all means none is left running.
        for (int i = 0; i < _options.ListenBacklog; i++)
        {
            await _handshakeSlots.WaitAsync().ConfigureAwait(false);
        }

        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out IFramedConnection? orphan))
        {
            await orphan.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
        _handshakeSlots.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        CancellationToken stopping = _stopping.Token;
        while (true)
        {
            try
            {
                await _handshakeSlots.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Interrupted or SocketError.TryAgain)
            {
                _handshakeSlots.Release();
                continue; // A client that gave up while queued must not stop the listener.
            }
            catch (Exception e)
            {
                _handshakeSlots.Release();
                if (!stopping.IsCancellationRequested)
                {
                    _accepted.Writer.TryComplete(e);
                }

                return;
            }

            _ = HandshakeAsync(accepted, stopping);
        }
    }

    // Owns one handshake slot, released when done; never throws. Until the connection is queued it is ours to close.
    private async Task HandshakeAsync(Socket socket, CancellationToken stopping)
    {
        SocketTransport? transport = null;
        IFramedConnection? connection = null;
        bool refused = false;
        try
        {
            SocketConnections.ConfigureTcp(socket);
            transport = new SocketTransport(socket, _webSocketProtocol, _options);
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            {
                deadline.CancelAfter(_options.HandshakeTimeout);
                if (_hybrid && !await StartsWithHttpGetAsync(transport.Input, deadline.Token).ConfigureAwait(false))
                {
                    connection = new PipeFramedConnection(transport, _rawProtocol, _options.MaxFrameSize);
                }
                else
                {
                    var stream = new TransportStream(transport);
                    try
                    {
                        var webSocket = await WebSocketHandshake.AcceptAsync(transport, stream, deadline.Token).ConfigureAwait(false);
                        connection = new WebSocketFramedConnection(webSocket, transport, stream, _webSocketProtocol, _options.MaxFrameSize, _options.DrainTimeout);
                    }
                    catch (FlowException e) when (e.Code == FlowErrorCode.BadArg)
                    {
                        refused = true; // The error response is written; let it drain before closing.
                        throw;
                    }
                }
            }

            // No deadline here: a connection waits for the application to accept it, like a kernel backlog.
            await _accepted.Writer.WriteAsync(connection, stopping).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A client that fails its handshake, for whatever reason, is dropped; the accepter never hears of it.
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else if (transport is not null)
            {
                if (!refused)
                {
                    transport.Abort(new FlowException(FlowErrorCode.Aborted, "The handshake did not complete."));
                }

                await transport.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }
        }
        finally
        {
            _handshakeSlots.Release();
        }
    }

    // Decides from the first four bytes, leaving them in the pipe for whoever reads next.
    private static async ValueTask<bool> StartsWithHttpGetAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length >= HttpGet.Length)
            {
                Span<byte> first = stackalloc byte[4];
                buffer.Slice(0, HttpGet.Length).CopyTo(first);
                input.AdvanceTo(buffer.Start);
                return first.SequenceEqual(HttpGet);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                throw new IOException("The connection ended before its protocol could be told.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private FlowException Closed(Exception? inner) =>
        new(FlowErrorCode.Aborted, $"The {Protocol} listener on {Address} is closed.", inner);
}

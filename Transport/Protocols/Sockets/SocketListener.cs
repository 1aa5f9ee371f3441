using System.Net;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// A listening stream socket that accepts framed connections; shared by the socket-based protocols, which supply
/// the per-connection socket setup and any cleanup of the bound address.
/// </summary>
internal sealed class SocketListener : IProtocolListener
{
    private readonly Socket _socket;
    private readonly FramingOptions _options;
    private readonly Action<Socket>? _configureAccepted;
    private readonly Action? _onDisposed;
    private int _disposed;

    public SocketListener(
        Socket socket,
        string protocol,
        string address,
        FramingOptions options,
        Action<Socket>? configureAccepted = null,
        Action? onDisposed = null)
    {
        _socket = socket;
        _options = options;
        _configureAccepted = configureAccepted;
        _onDisposed = onDisposed;
        Protocol = protocol;
        Address = address;
        LocalAddress = socket.LocalEndPoint;
    }

    public string Protocol { get; }

    public string Address { get; }

    public EndPoint? LocalAddress { get; }

    public async ValueTask<IFramedConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            ThrowIfDisposed();
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (IsTransient(e.SocketErrorCode) && Volatile.Read(ref _disposed) == 0)
            {
                continue; // A client that gave up while queued must not stop the listener.
            }
            catch (Exception e)
            {
                throw AcceptFailure(e, cancellationToken);
            }

            try
            {
                _configureAccepted?.Invoke(accepted);
                return SocketConnections.Frame(accepted, Protocol, _options);
            }
            catch (SocketException)
            {
                // The connection died between accept and setup; nothing of it is worth reporting.
                accepted.Dispose();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return default;
        }

        // Closing the socket fails every pending accept; they report Aborted because _disposed is set first.
        _socket.Dispose();
        _onDisposed?.Invoke();
        return default;
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new FlowException(FlowErrorCode.Aborted, $"The {Protocol} listener on {Address} is closed.");
        }
    }

    private FlowException AcceptFailure(Exception error, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return new FlowException(FlowErrorCode.Aborted, $"The {Protocol} listener on {Address} is closed.", error);
        }

        if (error is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return new FlowException(FlowErrorCode.Aborted, $"Accepting on the {Protocol} listener on {Address} was cancelled.", error);
        }

        return new FlowException(FlowErrorCode.Network, $"Accepting on the {Protocol} listener on {Address} failed: {error.Message}", error);
    }

    private static bool IsTransient(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Interrupted or SocketError.TryAgain;
}

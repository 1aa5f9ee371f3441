using System.Net.Sockets;
using FlowOrleans.Transport.Protocols.Sockets;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// The <c>unix</c> protocol: stream sockets on a file-system path. Listening replaces what is at the path only when it
/// is a stale socket file left by a process that died (a socket that refuses connections; see
/// <see cref="UnixSocketFiles"/>), and disposing the listener removes its file.
/// </summary>
public sealed class UnixProtocol : IProtocol
{
    private readonly FramingOptions _options;
    private readonly UnixDialer _dialer;

    /// <summary>Creates the protocol; <paramref name="options"/> is validated and copied.</summary>
    public UnixProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
        _dialer = new UnixDialer(_options);
    }

    /// <inheritdoc />
    public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default) =>
        _dialer.DialAsync(protocol, address, timeout, ct);

    /// <inheritdoc />
    public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        // A path is already as resolved as it gets; only reject what could never be dialed.
        return TryCreateEndPoint(address, out _, out string? problem)
            ? new ValueTask<ResolvedAddresses>(new ResolvedAddresses(protocol, [address]))
            : ValueTask.FromException<ResolvedAddresses>(
                new FlowException(FlowErrorCode.ResolveFailed, $"Cannot resolve {protocol} address \"{address}\": {problem}"));
    }

    /// <inheritdoc />
    public async ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (!TryCreateEndPoint(address, out UnixDomainSocketEndPoint? endPoint, out string? problem))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on {protocol} address \"{address}\": {problem}");
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            SocketError bindError = TryBind(socket, endPoint);
            if (bindError == SocketError.AddressAlreadyInUse && await UnixSocketFiles.IsStaleSocketAsync(endPoint, address, ct).ConfigureAwait(false))
            {
                File.Delete(address);
                bindError = TryBind(socket, endPoint);
            }

            if (bindError != SocketError.Success)
            {
                throw new SocketException((int)bindError);
            }

            socket.Listen(_options.ListenBacklog);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            string reason = e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
                ? "the address is in use"
                : e.Message;
            throw new FlowException(FlowErrorCode.Network, $"Cannot listen on {protocol} address \"{address}\": {reason}.", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new SocketListener(socket, protocol, address, _options, onDisposed: () => TryDeleteSocketFile(address));
    }

    private static SocketError TryBind(Socket socket, UnixDomainSocketEndPoint endPoint)
    {
        try
        {
            socket.Bind(endPoint);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    /// <summary>The socket end point of a path, or why the path can never be one.</summary>
    internal static bool TryCreateEndPoint(
        string address,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out UnixDomainSocketEndPoint? endPoint,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        endPoint = null;
        problem = null;
        if (address.Length == 0)
        {
            problem = "the socket path is empty";
            return false;
        }

        try
        {
            endPoint = new UnixDomainSocketEndPoint(address);
            return true;
        }
        catch (ArgumentException e)
        {
            problem = e.Message; // Typically a path longer than the platform's limit.
            return false;
        }
    }

    private static void TryDeleteSocketFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leaving a socket file behind is harmless: the next listener on this path replaces it as stale.
        }
    }
}

using System.Net;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// Dialing, binding and resolving TCP addresses, shared by every protocol that runs over TCP (tcp, ws, wsh).
/// <paramref name="protocol"/> arguments are only used in error messages; the family is passed explicitly.
/// </summary>
internal static class TcpSockets
{
    /// <summary>Connects to the first address of <paramref name="host"/> that answers; the socket is configured for TCP.</summary>
    /// <exception cref="SocketException">No address of the host accepted the connection or the host is unknown.</exception>
    public static async ValueTask<Socket> ConnectAsync(string host, int port, AddressFamily family, CancellationToken cancellationToken)
    {
        // As in Go, no host means this machine.
        IPAddress[] candidates = host.Length == 0
            ? Loopbacks(family)
            : await TcpAddress.ResolveAsync(host, family, cancellationToken).ConfigureAwait(false);

        SocketException? lastError = null;
        foreach (IPAddress candidate in candidates)
        {
            Socket socket;
            try
            {
                socket = await SocketConnections.ConnectAsync(new IPEndPoint(candidate, port), ProtocolType.Tcp, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                lastError = e; // Try the next address the name stands for.
                continue;
            }

            try
            {
                SocketConnections.ConfigureTcp(socket);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw lastError ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Binds and listens on a TCP address; an empty host is the wildcard of the family.</summary>
    /// <exception cref="FlowException">BadArg (malformed or wrong family), ResolveFailed (unknown host), Network (bind failed).</exception>
    public static async ValueTask<Socket> ListenAsync(string protocol, string address, AddressFamily family, int backlog, CancellationToken cancellationToken)
    {
        if (!TcpAddress.TryParse(address, out string host, out int port))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on {protocol} address \"{address}\": malformed address, expected host:port or [v6]:port.");
        }

        IPAddress bindAddress = host.Length == 0
            ? AnyAddress(family)
            : await ResolveBindAddressAsync(protocol, address, host, family, cancellationToken).ConfigureAwait(false);

        var socket = new Socket(bindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bindAddress.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // "tcp" on the IPv6 wildcard also takes IPv4 clients, as Go's listeners do; "tcp6" only IPv6.
                socket.DualMode = family == AddressFamily.Unspecified && bindAddress.Equals(IPAddress.IPv6Any);
            }

            socket.Bind(new IPEndPoint(bindAddress, port));
            socket.Listen(backlog);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new FlowException(FlowErrorCode.Network, $"Cannot listen on {protocol} address \"{address}\": {e.SocketErrorCode} ({e.Message}).", e);
        }
    }

    /// <summary>The <c>ip:port</c> strings an address stands for.</summary>
    /// <exception cref="FlowException">ResolveFailed for malformed addresses and unknown hosts; Aborted on cancellation.</exception>
    public static async ValueTask<string[]> ResolveAsync(string protocol, string address, AddressFamily family, CancellationToken cancellationToken)
    {
        if (!TcpAddress.TryParse(address, out string host, out int port))
        {
            throw ResolveFailure(protocol, address, "malformed address, expected host:port or [v6]:port");
        }

        if (host.Length == 0)
        {
            return [$":{port}"];
        }

        try
        {
            IPAddress[] resolved = await TcpAddress.ResolveAsync(host, family, cancellationToken).ConfigureAwait(false);
            return [.. resolved.Select(ip => TcpAddress.Format(new IPEndPoint(ip, port)))];
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Aborted, $"Resolving {protocol} address \"{address}\" was cancelled.", e);
        }
        catch (Exception e)
        {
            throw ResolveFailure(protocol, address, e.Message, e);
        }
    }

    public static FlowException ResolveFailure(string protocol, string address, string problem, Exception? inner = null) =>
        new(FlowErrorCode.ResolveFailed, $"Cannot resolve {protocol} address \"{address}\": {problem}", inner);

    private static async ValueTask<IPAddress> ResolveBindAddressAsync(string protocol, string address, string host, AddressFamily family, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return TcpAddress.Allows(family, literal)
                ? literal
                : throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on {protocol} address \"{address}\": wrong address family for {protocol}.");
        }

        try
        {
            IPAddress[] resolved = await TcpAddress.ResolveAsync(host, family, cancellationToken).ConfigureAwait(false);

            // Like Go, a name with both families binds its IPv4 address.
            return resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? resolved[0];
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Aborted, $"Listening on {protocol} address \"{address}\" was cancelled.", e);
        }
        catch (Exception e)
        {
            throw new FlowException(FlowErrorCode.ResolveFailed, $"Cannot listen on {protocol} address \"{address}\": {e.Message}", e);
        }
    }

    private static IPAddress AnyAddress(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => IPAddress.Any,
        AddressFamily.InterNetworkV6 => IPAddress.IPv6Any,
        _ => Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any,
    };

    private static IPAddress[] Loopbacks(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => [IPAddress.Loopback],
        AddressFamily.InterNetworkV6 => [IPAddress.IPv6Loopback],
        _ => Socket.OSSupportsIPv6 ? [IPAddress.Loopback, IPAddress.IPv6Loopback] : [IPAddress.Loopback],
    };
}

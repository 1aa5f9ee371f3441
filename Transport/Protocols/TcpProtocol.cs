using System.Net;
using System.Net.Sockets;
using FlowOrleans.Transport.Protocols.Sockets;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// The <c>tcp</c>, <c>tcp4</c> and <c>tcp6</c> protocols. Addresses are <c>host:port</c>, <c>[v6]:port</c> or
/// <c>:port</c>; port 0 listens on an ephemeral port; host names are resolved with DNS and filtered by the
/// protocol's family. Connections use Nagle-free, keep-alive sockets.
/// </summary>
public sealed class TcpProtocol : IProtocol
{
    private readonly FramingOptions _options;

    /// <summary>Creates the protocol; <paramref name="options"/> is validated and copied.</summary>
    public TcpProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
    }

    /// <inheritdoc />
    public async ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        using var attempt = new DialAttempt(protocol, address, timeout, ct);
        try
        {
            if (TcpAddress.FamilyOf(protocol) is not { } family)
            {
                throw attempt.Failure("not a TCP protocol");
            }

            if (!TcpAddress.TryParse(address, out string host, out int port))
            {
                throw attempt.Failure("malformed address, expected host:port or [v6]:port");
            }

            // As in Go, no host means this machine.
            IPAddress[] candidates = host.Length == 0
                ? Loopbacks(family)
                : await TcpAddress.ResolveAsync(host, family, attempt.Token).ConfigureAwait(false);

            SocketException? lastError = null;
            foreach (IPAddress candidate in candidates)
            {
                try
                {
                    Socket socket = await SocketConnections.ConnectAsync(new IPEndPoint(candidate, port), ProtocolType.Tcp, attempt.Token).ConfigureAwait(false);
                    try
                    {
                        SocketConnections.ConfigureTcp(socket);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }

                    return SocketConnections.Frame(socket, protocol, _options);
                }
                catch (SocketException e)
                {
                    lastError = e; // Try the next address the name stands for.
                }
            }

            throw lastError ?? new SocketException((int)SocketError.HostNotFound);
        }
        catch (Exception e)
        {
            throw attempt.Failure(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (TcpAddress.FamilyOf(protocol) is not { } family)
        {
            throw ResolveFailure(protocol, address, "not a TCP protocol");
        }

        if (!TcpAddress.TryParse(address, out string host, out int port))
        {
            throw ResolveFailure(protocol, address, "malformed address, expected host:port or [v6]:port");
        }

        if (host.Length == 0)
        {
            return new ResolvedAddresses(protocol, [$":{port}"]);
        }

        IPAddress[] resolved;
        try
        {
            resolved = await TcpAddress.ResolveAsync(host, family, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (ct.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Aborted, $"Resolving {protocol} address \"{address}\" was cancelled.", e);
        }
        catch (Exception e)
        {
            throw ResolveFailure(protocol, address, e.Message, e);
        }

        return new ResolvedAddresses(protocol, resolved.Select(ip => TcpAddress.Format(new IPEndPoint(ip, port))).ToArray());
    }

    /// <inheritdoc />
    public async ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (TcpAddress.FamilyOf(protocol) is not { } family)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on \"{address}\": {protocol} is not a TCP protocol.");
        }

        if (!TcpAddress.TryParse(address, out string host, out int port))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on {protocol} address \"{address}\": malformed address, expected host:port or [v6]:port.");
        }

        IPAddress bindAddress = host.Length == 0
            ? AnyAddress(family)
            : await ResolveBindAddressAsync(protocol, address, host, family, ct).ConfigureAwait(false);

        var socket = new Socket(bindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bindAddress.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // "tcp" on the IPv6 wildcard also takes IPv4 clients, as Go's listeners do; "tcp6" only IPv6.
                socket.DualMode = family == AddressFamily.Unspecified && bindAddress.Equals(IPAddress.IPv6Any);
            }

            socket.Bind(new IPEndPoint(bindAddress, port));
            socket.Listen(_options.ListenBacklog);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new FlowException(FlowErrorCode.Network, $"Cannot listen on {protocol} address \"{address}\": {e.SocketErrorCode} ({e.Message}).", e);
        }

        string bound = TcpAddress.Format((IPEndPoint)socket.LocalEndPoint!);
        return new SocketListener(socket, protocol, bound, _options, SocketConnections.ConfigureTcp);
    }

    private static async ValueTask<IPAddress> ResolveBindAddressAsync(string protocol, string address, string host, AddressFamily family, CancellationToken ct)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return TcpAddress.Allows(family, literal)
                ? literal
                : throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on {protocol} address \"{address}\": wrong address family for {protocol}.");
        }

        try
        {
            IPAddress[] resolved = await TcpAddress.ResolveAsync(host, family, ct).ConfigureAwait(false);

            // Like Go, a name with both families binds its IPv4 address.
            return resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? resolved[0];
        }
        catch (OperationCanceledException e) when (ct.IsCancellationRequested)
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

    private static FlowException ResolveFailure(string protocol, string address, string problem, Exception? inner = null) =>
        new(FlowErrorCode.ResolveFailed, $"Cannot resolve {protocol} address \"{address}\": {problem}", inner);
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Security;

/// <summary>
/// Checks what a client asks the silo to dial, pin or listen on against <c>FlowOrleans:Policy</c> before any connection
/// is made. A host name is resolved here and every address it stands for must pass; the dial then goes to the address
/// that was checked, so a name cannot resolve to an allowed address for the check and another for the dial. A refusal
/// is <see cref="FlowErrorCode.NotTrusted"/> and says only that the policy refused: it is decided before the network is
/// touched, so it is the same for open and closed ports.
/// </summary>
internal sealed partial class ClientRequestPolicy
{
    private readonly RequestRule _dial;
    private readonly RequestRule _listen;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly ILogger _logger;

    public ClientRequestPolicy(IOptions<FlowOrleansOptions> options, ILogger<ClientRequestPolicy> logger)
        : this(options.Value.Policy, Dns.GetHostAddressesAsync, logger)
    {
    }

    internal ClientRequestPolicy(ClientPolicyOptions options, Func<string, CancellationToken, Task<IPAddress[]>> resolve, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Profile = options.Profile;
        _dial = RequestRule.ForDial(options.Dial, options.Profile);
        _listen = RequestRule.ForListen(options.Listen, options.Profile);
        _resolve = resolve;
        _logger = logger;
    }

    public PolicyProfile Profile { get; }

    /// <summary>
    /// Returns the endpoint to dial for a client's <paramref name="endpoint"/>: the same endpoint with the checked address
    /// in place of a host name. An addressless endpoint (a routing ID) passes: it reaches only connections the silo holds.
    /// </summary>
    public async Task<Endpoint> CheckDialAsync(Endpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.IsAddressless)
        {
            return endpoint;
        }

        if (endpoint.Protocol == "unix")
        {
            return _dial.AllowsUnixPath(endpoint.Address) ? endpoint : throw Refused("dial", endpoint.Protocol, endpoint.Address);
        }

        if (!_dial.AllowsProtocol(endpoint.Protocol) || !TrySplit(endpoint.Address, out var host, out var port) || port == 0 || !_dial.AllowsPort(port))
        {
            throw Refused("dial", endpoint.Protocol, endpoint.Address);
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await _resolve(host, cancellationToken);
            }
            catch (SocketException e)
            {
                LogResolveFailed(_logger, e, host);
                throw new FlowException(FlowErrorCode.DialFailed, $"The silo could not reach {endpoint.Protocol}/{endpoint.Address}.");
            }
        }

        if (addresses.Length == 0 || !addresses.All(_dial.AllowsAddress))
        {
            throw Refused("dial", endpoint.Protocol, endpoint.Address);
        }

        return endpoint.WithAddress(new IPEndPoint(addresses[0], port).ToString());
    }

    /// <summary>Refuses a listen the policy does not allow. Listen hosts must be IP addresses: nothing is resolved.</summary>
    public void CheckListen(ListenAddress address)
    {
        var allowed = address.Protocol == "unix"
            ? _listen.AllowsUnixPath(address.Address)
            : _listen.AllowsProtocol(address.Protocol)
                && TrySplit(address.Address, out var host, out var port)
                && IPAddress.TryParse(host, out var ip)
                && _listen.AllowsAddress(ip)
                && _listen.AllowsPort(port);
        if (!allowed)
        {
            throw Refused("listen", address.Protocol, address.Address);
        }
    }

    /// <summary>Splits <c>host:port</c> or <c>[v6]:port</c>.</summary>
    private static bool TrySplit(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            return false;
        }

        host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return host.Length > 0;
    }

    private FlowException Refused(string verb, string protocol, string address)
    {
        LogRefused(_logger, verb, protocol, address);
        return new FlowException(FlowErrorCode.NotTrusted,
            $"The silo's policy does not let clients {verb} {protocol}/{address} ({FlowOrleansOptions.PolicySectionName}:{(verb == "dial" ? "Dial" : "Listen")}).");
    }

    [LoggerMessage(1, LogLevel.Warning, "Refused a client's request to {Verb} {Protocol}/{Address}: the policy does not allow it")]
    private static partial void LogRefused(ILogger logger, string verb, string protocol, string address);

    [LoggerMessage(2, LogLevel.Information, "Could not resolve '{Host}' for a client's dial")]
    private static partial void LogResolveFailed(ILogger logger, Exception exception, string host);
}

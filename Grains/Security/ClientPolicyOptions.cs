namespace FlowOrleans.Grains.Security;

/// <summary>
/// What Orleans clients may ask a silo to dial and listen on, bound from <c>FlowOrleans:Policy</c>. Each rule left unset
/// takes its <see cref="Profile"/>'s default: in <see cref="PolicyProfile.Production"/> dials reach tcp on any address
/// but loopback, unspecified, link-local and cloud metadata ones, and no listen is allowed; in
/// <see cref="PolicyProfile.Development"/> dials may reach loopback too and listens may bind tcp on loopback.
/// </summary>
public sealed class ClientPolicyOptions
{
    /// <summary>Which defaults unset rules take. Default <see cref="PolicyProfile.Production"/>.</summary>
    public PolicyProfile Profile { get; set; } = PolicyProfile.Production;

    /// <summary>Where clients may ask the silo to dial (and pin).</summary>
    public RequestRuleOptions Dial { get; } = new();

    /// <summary>Where clients may ask the silo to listen.</summary>
    public RequestRuleOptions Listen { get; } = new();
}

/// <summary>The defaults of a <see cref="ClientPolicyOptions"/>.</summary>
public enum PolicyProfile
{
    /// <summary>Nothing on the silo's own host or the cloud's metadata service is reachable; no listens.</summary>
    Production,

    /// <summary>A single machine: loopback may be dialed and listened on.</summary>
    Development,
}

/// <summary>
/// An allow-list of addresses. A request passes if its protocol is listed, every address it stands for lies in a listed
/// network and in no denied one, and its port is listed; unix paths pass only under <see cref="UnixDirectory"/>.
/// A list left null takes the profile's default; an empty list allows nothing (ports: empty allows every port).
/// </summary>
public sealed class RequestRuleOptions
{
    /// <summary>Protocols, e.g. <c>tcp</c>, <c>tcp4</c>, <c>ws</c>. An endpoint without a protocol counts as <c>tcp</c>.</summary>
    public IList<string>? Protocols { get; set; }

    /// <summary>Allowed address ranges in CIDR form (<c>10.0.0.0/8</c>, <c>::/0</c>).</summary>
    public IList<string>? Networks { get; set; }

    /// <summary>Ranges refused even inside <see cref="Networks"/>.</summary>
    public IList<string>? DeniedNetworks { get; set; }

    /// <summary>Ports or inclusive ranges (<c>8100</c>, <c>8000-8999</c>); empty: every port.</summary>
    public IList<string>? Ports { get; set; }

    /// <summary>The directory unix socket paths must lie under; unset: no unix sockets.</summary>
    public string? UnixDirectory { get; set; }
}

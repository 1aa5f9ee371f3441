using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace FlowOrleans.Transport.Endpoints;

/// <summary>
/// Where and who a flow manager is: protocol, network address, proxy routes, routing ID, whether it
/// serves a mount table, and the blessing names it presents. Immutable with value equality.
/// </summary>
/// <remarks>
/// <para>
/// The string form is Vanadium's v6 endpoint,
/// <c>@6@&lt;protocol&gt;@&lt;address&gt;@&lt;route&gt;[,&lt;route&gt;...]@&lt;routingid&gt;@&lt;m|s&gt;@&lt;blessing&gt;[,&lt;blessing&gt;...]@@</c>,
/// so endpoints printed here are understood by Vanadium peers and the reverse. <see cref="Parse"/> also
/// accepts the short form <c>[(blessing)@]host:port[#]</c>.
/// </para>
/// <para>
/// Invariant: <c>Parse(e.ToString())</c> equals <c>e</c> for every endpoint. For that, an empty address
/// is stored as <c>:0</c> (as parsing does), and <see cref="Create"/> rejects the few values the string form
/// cannot carry: a protocol holding <c>@</c>, a blessing name holding <c>,</c>, and a list made of a single
/// empty element (which prints like an empty list).
/// </para>
/// </remarks>
public sealed class Endpoint : IEquatable<Endpoint>
{
    /// <summary>
    /// The protocol of an endpoint reachable only over connections the process itself holds (Vanadium's <c>bidi</c>):
    /// what a manager that listens nowhere publishes. Nothing dials it.
    /// </summary>
    public const string BidiProtocol = "bidi";

    /// <summary>The address an empty address stands for: any port on all interfaces.</summary>
    internal const string UnspecifiedAddress = ":0";

    private readonly string[] _routes;
    private readonly string[] _blessingNames;
    private string? _canonical;

    // Trusted: callers pass validated values and arrays nobody else holds.
    internal Endpoint(string protocol, string address, string[] routes, RoutingId routingId, bool servesMountTable, string[] blessingNames)
    {
        Protocol = protocol;
        Address = address.Length == 0 ? UnspecifiedAddress : address;
        _routes = routes;
        RoutingId = routingId;
        ServesMountTable = servesMountTable;
        _blessingNames = blessingNames;
        Routes = routes.Length == 0 ? ReadOnlyCollection<string>.Empty : new ReadOnlyCollection<string>(routes);
        BlessingNames = blessingNames.Length == 0 ? ReadOnlyCollection<string>.Empty : new ReadOnlyCollection<string>(blessingNames);
    }

    /// <summary>The protocol (e.g. <c>tcp</c>, <c>ws</c>); empty when unknown, letting the dialer pick.</summary>
    public string Protocol { get; }

    /// <summary>The protocol-specific network address; never empty (<c>:0</c> when unspecified).</summary>
    public string Address { get; }

    /// <summary>Proxy routes, outermost first: how a proxy forwards to the process behind it.</summary>
    public IReadOnlyList<string> Routes { get; }

    /// <summary>The routing ID of the process; <see cref="RoutingId.Null"/> when unknown.</summary>
    public RoutingId RoutingId { get; }

    /// <summary>True when the endpoint serves a mount table (flag <c>m</c>).</summary>
    public bool ServesMountTable { get; }

    /// <summary>The blessing names the process presents, as a hint for authorizing it before connecting.</summary>
    public IReadOnlyList<string> BlessingNames { get; }

    /// <summary>
    /// True when the endpoint has no address and no protocol that dials (none, or <see cref="BidiProtocol"/>), so only
    /// its routing ID identifies the peer; such endpoints are reached over a connection the peer already holds
    /// (bidirectional routing).
    /// </summary>
    public bool IsAddressless =>
        (Protocol.Length == 0 || Protocol == BidiProtocol) && Address == UnspecifiedAddress;

    /// <summary>Creates an endpoint.</summary>
    /// <param name="protocol">The protocol; empty when unknown. Must not contain <c>@</c>.</param>
    /// <param name="address">The network address; empty means <c>:0</c>.</param>
    /// <param name="routingId">The routing ID; defaults to the null ID.</param>
    /// <param name="blessingNames">Blessing names; none must contain <c>,</c>.</param>
    /// <param name="routes">Proxy routes.</param>
    /// <param name="servesMountTable">Whether the endpoint serves a mount table.</param>
    /// <exception cref="FlowException">With <see cref="FlowErrorCode.BadArg"/> for a value the endpoint string cannot carry.</exception>
    public static Endpoint Create(
        string protocol,
        string address,
        RoutingId routingId = default,
        IEnumerable<string>? blessingNames = null,
        IEnumerable<string>? routes = null,
        bool servesMountTable = false)
    {
        return new Endpoint(
            ValidateProtocol(protocol),
            ValidateAddress(address),
            ValidateRoutes(routes),
            routingId,
            servesMountTable,
            ValidateBlessingNames(blessingNames));
    }

    /// <summary>An endpoint made only of a routing ID, for reaching a peer over a connection it already holds.</summary>
    /// <exception cref="FlowException">With <see cref="FlowErrorCode.BadArg"/> for the null routing ID, which identifies nobody.</exception>
    public static Endpoint ForRoutingId(RoutingId routingId)
    {
        if (routingId.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadArg, "An addressless endpoint needs a non-null routing id.");
        }

        return new Endpoint(string.Empty, UnspecifiedAddress, [], routingId, servesMountTable: false, []);
    }

    /// <summary>
    /// Formats a v6 endpoint string from raw fields, like Vanadium's <c>naming.FormatEndpoint</c>: a field not given
    /// stays empty (no routing ID, no <c>m</c>/<c>s</c> flag, an empty address stays empty) and nothing is escaped or
    /// checked, so a caller can write exactly the text another implementation expects (for instance an endpoint to
    /// hand to a Vanadium tool) where <see cref="ToString"/> would print the canonical form of a parsed endpoint.
    /// </summary>
    /// <param name="protocol">The protocol, written as given.</param>
    /// <param name="address">The address, written as given.</param>
    /// <param name="routingId">The routing ID; null leaves the field empty (the null ID prints as zeros).</param>
    /// <param name="servesMountTable">True writes <c>m</c>, false <c>s</c>, null leaves the flag empty.</param>
    /// <param name="routes">Routes, joined with <c>,</c>.</param>
    /// <param name="blessingNames">Blessing names, joined with <c>,</c>.</param>
    public static string Format(
        string protocol,
        string address,
        RoutingId? routingId = null,
        bool? servesMountTable = null,
        IEnumerable<string>? routes = null,
        IEnumerable<string>? blessingNames = null)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);
        var flag = servesMountTable switch { true => "m", false => "s", null => string.Empty };
        return string.Concat(
            "@6@", protocol, "@", address, "@",
            string.Join(',', routes ?? []), "@",
            routingId?.ToString() ?? string.Empty, "@",
            flag, "@",
            string.Join(',', blessingNames ?? []), "@@");
    }

    /// <summary>Parses a v6 endpoint string or the short form <c>[(blessing)@]host:port[#]</c>.</summary>
    /// <exception cref="FlowException">With <see cref="FlowErrorCode.BadArg"/> naming what is malformed.</exception>
    public static Endpoint Parse(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return EndpointParser.TryParse(s, out var endpoint, out var error)
            ? endpoint
            : throw new FlowException(FlowErrorCode.BadArg, $"Invalid endpoint \"{EndpointText.Excerpt(s)}\": {error}.");
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? s, [NotNullWhen(true)] out Endpoint? endpoint)
    {
        if (s is not null && EndpointParser.TryParse(s, out var parsed, out _))
        {
            endpoint = parsed;
            return true;
        }

        endpoint = null;
        return false;
    }

    /// <summary>A copy with another routing ID.</summary>
    public Endpoint WithRoutingId(RoutingId routingId) =>
        new(Protocol, Address, _routes, routingId, ServesMountTable, _blessingNames);

    /// <summary>A copy with another address (empty means <c>:0</c>).</summary>
    public Endpoint WithAddress(string address) =>
        new(Protocol, ValidateAddress(address), _routes, RoutingId, ServesMountTable, _blessingNames);

    /// <summary>A copy with another protocol.</summary>
    public Endpoint WithProtocol(string protocol) =>
        new(ValidateProtocol(protocol), Address, _routes, RoutingId, ServesMountTable, _blessingNames);

    /// <summary>A copy with other blessing names.</summary>
    public Endpoint WithBlessingNames(IEnumerable<string> blessingNames)
    {
        ArgumentNullException.ThrowIfNull(blessingNames);
        return new(Protocol, Address, _routes, RoutingId, ServesMountTable, ValidateBlessingNames(blessingNames));
    }

    /// <summary>A copy with other routes.</summary>
    public Endpoint WithRoutes(IEnumerable<string> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        return new(Protocol, Address, ValidateRoutes(routes), RoutingId, ServesMountTable, _blessingNames);
    }

    /// <summary>A copy with another mount table flag.</summary>
    public Endpoint WithServesMountTable(bool servesMountTable) =>
        new(Protocol, Address, _routes, RoutingId, servesMountTable, _blessingNames);

    /// <summary>The canonical v6 string: <c>@6@protocol@address@routes@routingid@m|s@blessings@@</c>.</summary>
    public override string ToString() => _canonical ??= Format();

    public bool Equals([NotNullWhen(true)] Endpoint? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (RoutingId == other.RoutingId
                && ServesMountTable == other.ServesMountTable
                && string.Equals(Protocol, other.Protocol, StringComparison.Ordinal)
                && string.Equals(Address, other.Address, StringComparison.Ordinal)
                && _routes.AsSpan().SequenceEqual(other._routes)
                && _blessingNames.AsSpan().SequenceEqual(other._blessingNames)));

    public override bool Equals([NotNullWhen(true)] object? obj) => Equals(obj as Endpoint);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(Protocol, StringComparer.Ordinal);
        hash.Add(Address, StringComparer.Ordinal);
        hash.Add(RoutingId);
        hash.Add(ServesMountTable);
        hash.Add(_routes.Length);
        foreach (var route in _routes)
        {
            hash.Add(route, StringComparer.Ordinal);
        }

        hash.Add(_blessingNames.Length);
        foreach (var name in _blessingNames)
        {
            hash.Add(name, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    public static bool operator ==(Endpoint? left, Endpoint? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(Endpoint? left, Endpoint? right) => !(left == right);

    private string Format()
    {
        // "@6@" + protocol + "@" + address + "@" + routes + "@" + rid + "@m@" + blessings + "@@"
        var length = 3 + Protocol.Length + 1 + EndpointText.EscapedLength(Address, EndpointText.AddressSpecials) + 1;
        foreach (var route in _routes)
        {
            length += EndpointText.EscapedLength(route, EndpointText.RouteSpecials) + 1;
        }

        length += (_routes.Length == 0 ? 1 : 0) + (RoutingId.Size * 2) + 3;
        foreach (var name in _blessingNames)
        {
            length += name.Length + 1;
        }

        length += _blessingNames.Length == 0 ? 2 : 1;

        return string.Create(length, this, static (chars, endpoint) => endpoint.FormatInto(chars));
    }

    private void FormatInto(Span<char> chars)
    {
        "@6@".CopyTo(chars);
        var pos = 3;
        Protocol.CopyTo(chars[pos..]);
        pos += Protocol.Length;
        chars[pos++] = '@';
        pos += EndpointText.WriteEscaped(Address, EndpointText.AddressSpecials, chars[pos..]);
        chars[pos++] = '@';
        for (var i = 0; i < _routes.Length; i++)
        {
            if (i > 0)
            {
                chars[pos++] = ',';
            }

            pos += EndpointText.WriteEscaped(_routes[i], EndpointText.RouteSpecials, chars[pos..]);
        }

        chars[pos++] = '@';
        RoutingId.TryFormat(chars[pos..], out var ridLength, default, null);
        pos += ridLength;
        chars[pos++] = '@';
        chars[pos++] = ServesMountTable ? 'm' : 's';
        chars[pos++] = '@';

        // Blessing names are printed raw: they may hold '@', which parsing tolerates because the
        // blessings are the last field and take everything up to the final "@@".
        for (var i = 0; i < _blessingNames.Length; i++)
        {
            if (i > 0)
            {
                chars[pos++] = ',';
            }

            _blessingNames[i].CopyTo(chars[pos..]);
            pos += _blessingNames[i].Length;
        }

        "@@".CopyTo(chars[pos..]);
    }

    private static string ValidateProtocol(string protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        if (protocol.Contains('@', StringComparison.Ordinal))
        {
            throw new FlowException(
                FlowErrorCode.BadArg,
                $"Bad protocol \"{EndpointText.Excerpt(protocol)}\": it must not contain '@'.");
        }

        return protocol;
    }

    private static string ValidateAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address;
    }

    private static string[] ValidateRoutes(IEnumerable<string>? routes)
    {
        var copy = routes is null ? [] : routes.ToArray();
        foreach (var route in copy)
        {
            if (route is null)
            {
                throw new FlowException(FlowErrorCode.BadArg, "Bad routes: a route is null.");
            }
        }

        ThrowIfLoneEmpty(copy, "routes");
        return copy;
    }

    private static string[] ValidateBlessingNames(IEnumerable<string>? blessingNames)
    {
        var copy = blessingNames is null ? [] : blessingNames.ToArray();
        foreach (var name in copy)
        {
            if (name is null)
            {
                throw new FlowException(FlowErrorCode.BadArg, "Bad blessing names: a name is null.");
            }

            if (name.Contains(',', StringComparison.Ordinal))
            {
                throw new FlowException(
                    FlowErrorCode.BadArg,
                    $"Bad blessing name \"{EndpointText.Excerpt(name)}\": it must not contain ','.");
            }
        }

        ThrowIfLoneEmpty(copy, "blessing names");
        return copy;
    }

    private static void ThrowIfLoneEmpty(string[] values, string what)
    {
        if (values.Length == 1 && values[0].Length == 0)
        {
            throw new FlowException(
                FlowErrorCode.BadArg,
                $"Bad {what}: a single empty element would print as no {what} at all.");
        }
    }
}

using System.Diagnostics.CodeAnalysis;

namespace FlowOrleans.Transport.Endpoints;

/// <summary>
/// Parses endpoint strings by Vanadium's rules (<c>v23/naming.ParseEndpoint</c>), reporting what is wrong
/// instead of throwing so that <see cref="Endpoint.TryParse"/> stays exception-free.
/// </summary>
/// <remarks>
/// Two forms are accepted. The short form <c>[(blessing)@]host:port[#]</c> is any string without <c>@</c>,
/// optionally behind a parenthesised blessing and <c>@</c>. Everything else is the v6 form, whose leading
/// <c>@</c> and trailing <c>@@</c> are both optional, as in Vanadium.
/// </remarks>
internal static class EndpointParser
{
    private const char Separator = '@';
    private const char ListSeparator = ',';

    public static bool TryParse(string input, [NotNullWhen(true)] out Endpoint? endpoint, [NotNullWhen(false)] out string? error)
    {
        if (input.Length == 0)
        {
            endpoint = null;
            error = "the string is empty";
            return false;
        }

        endpoint = TryParseShortForm(input, out var isShortForm, out error)
            ?? (isShortForm ? null : TryParseV6(input, out error));
        return endpoint is not null;
    }

    private static Endpoint? TryParseShortForm(string input, out bool isShortForm, out string? error)
    {
        error = null;
        ReadOnlySpan<char> hostPort;
        ReadOnlySpan<char> blessing = default;
        var lastSeparator = input.LastIndexOf(Separator);
        if (lastSeparator < 0)
        {
            hostPort = input;
        }
        else if (input.StartsWith('(')
            && lastSeparator >= 2
            && input[lastSeparator - 1] == ')'
            && lastSeparator + 1 < input.Length
            && !input.AsSpan(1, lastSeparator - 2).Contains('\n'))
        {
            // Vanadium matches ^(?:\((.*)\)@)?([^@]+)$: the host:port cannot hold '@', so the blessing is
            // everything between the opening '(' and the last ")@" (a blessing may itself hold '@'), and
            // like RE2's '.', the blessing part never spans a newline.
            hostPort = input.AsSpan(lastSeparator + 1);
            blessing = input.AsSpan(1, lastSeparator - 2);
        }
        else
        {
            isShortForm = false;
            return null;
        }

        isShortForm = hostPort.Length > 0;
        if (!isShortForm)
        {
            return null;
        }

        if (HostPort.Validate(hostPort) is { } problem)
        {
            error = $"bad host:port ({problem})";
            return null;
        }

        // A trailing '#' marks an endpoint that does not serve a mount table.
        var servesMountTable = !hostPort.EndsWith('#');
        if (!servesMountTable)
        {
            hostPort = hostPort[..^1];
        }

        return new Endpoint(
            protocol: string.Empty,
            address: hostPort.ToString(),
            routes: [],
            RoutingId.Null,
            servesMountTable,
            blessingNames: SplitList(blessing));
    }

    private static Endpoint? TryParseV6(string input, out string? error)
    {
        var rest = input.AsSpan();
        if (rest.EndsWith("@@"))
        {
            rest = rest[..^2];
        }

        if (rest.StartsWith(Separator))
        {
            rest = rest[1..];
        }

        var separator = rest.IndexOf(Separator);
        var version = separator < 0 ? rest : rest[..separator];
        if (!version.SequenceEqual("6"))
        {
            error = $"bad version \"{EndpointText.Excerpt(version)}\" (only version 6 is supported)";
            return null;
        }

        if (!TryTakeField(ref rest, "version", out _, out error)
            || !TryTakeField(ref rest, "protocol", out var protocol, out error)
            || !TryTakeField(ref rest, "address", out var escapedAddress, out error)
            || !TryTakeField(ref rest, "routes", out var escapedRoutes, out error)
            || !TryTakeField(ref rest, "routing id", out var routingIdText, out error)
            || !TryTakeField(ref rest, "mount table flag", out var flag, out error))
        {
            return null;
        }

        if (!EndpointText.TryUnescape(escapedAddress, out var address))
        {
            error = $"bad escape in address \"{EndpointText.Excerpt(escapedAddress)}\"";
            return null;
        }

        if (!TryParseRoutes(escapedRoutes, out var routes, out error))
        {
            return null;
        }

        var routingId = RoutingId.Null;
        if (!routingIdText.IsEmpty && !RoutingId.TryParse(routingIdText, out routingId))
        {
            error = $"bad routing id \"{EndpointText.Excerpt(routingIdText)}\" (expected 32 hex digits)";
            return null;
        }

        bool servesMountTable;
        switch (flag)
        {
            case "" or "m":
                servesMountTable = true;
                break;
            case "s" or "l":
                servesMountTable = false;
                break;
            default:
                error = $"bad mount table flag \"{EndpointText.Excerpt(flag)}\" (expected m, s, l or nothing)";
                return null;
        }

        // The blessings are the rest, raw: they may hold '@'.
        return new Endpoint(protocol.ToString(), address, routes, routingId, servesMountTable, SplitList(rest));
    }

    private static bool TryTakeField(ref ReadOnlySpan<char> rest, string name, out ReadOnlySpan<char> field, out string? error)
    {
        var separator = rest.IndexOf(Separator);
        if (separator < 0)
        {
            field = default;
            error = $"missing field: no '@' after the {name} field";
            return false;
        }

        field = rest[..separator];
        rest = rest[(separator + 1)..];
        error = null;
        return true;
    }

    private static bool TryParseRoutes(ReadOnlySpan<char> escaped, out string[] routes, out string? error)
    {
        error = null;
        if (escaped.IsEmpty)
        {
            routes = [];
            return true;
        }

        routes = new string[escaped.Count(ListSeparator) + 1];
        var i = 0;
        foreach (var range in escaped.Split(ListSeparator))
        {
            if (!EndpointText.TryUnescape(escaped[range], out routes[i++]))
            {
                error = $"bad escape in route \"{EndpointText.Excerpt(escaped[range])}\"";
                return false;
            }
        }

        return true;
    }

    private static string[] SplitList(ReadOnlySpan<char> list)
    {
        if (list.IsEmpty)
        {
            return [];
        }

        var items = new string[list.Count(ListSeparator) + 1];
        var i = 0;
        foreach (var range in list.Split(ListSeparator))
        {
            items[i++] = list[range].ToString();
        }

        return items;
    }
}

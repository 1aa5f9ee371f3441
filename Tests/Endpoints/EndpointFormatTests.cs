using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Tests.Endpoints;

/// <summary>Printing endpoints in the canonical v6 form, and reading each printed form back.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EndpointFormatTests
{
    private static readonly RoutingId Rid = new(0, 0xba77);

    public static TheoryData<Endpoint, string> CanonicalForms => new()
    {
        {
            Endpoint.Create("", "batman.example:1234", new RoutingId(0, 0xdabbad00), servesMountTable: true),
            "@6@@batman.example:1234@@000000000000000000000000dabbad00@m@@@"
        },
        {
            Endpoint.Create("tcp", "batman.example:2345"),
            "@6@tcp@batman.example:2345@@00000000000000000000000000000000@s@@@"
        },
        {
            Endpoint.Create("ws6", "[::1]:2345", new RoutingId(0x0102030405060708, 0x090a0b0c0d0e0f10)),
            "@6@ws6@[::1]:2345@@0102030405060708090a0b0c0d0e0f10@s@@@"
        },
        {
            // Blessing names hold '@' and are printed raw.
            Endpoint.Create("tcp", "h:1", Rid, ["dev.v.io:foo@bar.com", "dev.v.io:bar@bar.com:delegate"], ["1"], servesMountTable: true),
            "@6@tcp@h:1@1@0000000000000000000000000000ba77@m@dev.v.io:foo@bar.com,dev.v.io:bar@bar.com:delegate@@"
        },
        {
            // Blessing names that look like other parts of the endpoint.
            Endpoint.Create("tcp", "h:1", Rid, ["@@", "@s", "@m"], ["1", "2", "3"], servesMountTable: true),
            "@6@tcp@h:1@1,2,3@0000000000000000000000000000ba77@m@@@,@s,@m@@"
        },
        {
            Endpoint.Create("tcp", "h:1", Rid, routes: ["a,b", ",ab", "ab,"]),
            "@6@tcp@h:1@a%2Cb,%2Cab,ab%2C@0000000000000000000000000000ba77@s@@@"
        },
        {
            Endpoint.Create("tcp", "h:1", Rid, routes: ["100%", "x@y", ""]),
            "@6@tcp@h:1@100%25,x%40y,@0000000000000000000000000000ba77@s@@@"
        },
        {
            Endpoint.Create("unix", "@", Rid),
            "@6@unix@%40@@0000000000000000000000000000ba77@s@@@"
        },
        {
            Endpoint.Create("unix", "@/tmp/%s,sock", Rid),
            "@6@unix@%40/tmp/%25s,sock@@0000000000000000000000000000ba77@s@@@"
        },
        {
            Endpoint.Create("tcp", ""),
            "@6@tcp@:0@@00000000000000000000000000000000@s@@@"
        },
        {
            Endpoint.Create("tcp", "ünïcødé:1", Rid, ["名前"]),
            "@6@tcp@ünïcødé:1@@0000000000000000000000000000ba77@s@名前@@"
        },
        {
            Endpoint.Create("tcp", "h:1", Rid, ["a", "", "b"]),
            "@6@tcp@h:1@@0000000000000000000000000000ba77@s@a,,b@@"
        },
        {
            Endpoint.Create("tcp", "h:1", Rid, ["trailing@"]),
            "@6@tcp@h:1@@0000000000000000000000000000ba77@s@trailing@@@"
        },
        {
            Endpoint.ForRoutingId(Rid),
            "@6@@:0@@0000000000000000000000000000ba77@s@@@"
        },
    };

    [Theory]
    [MemberData(nameof(CanonicalForms))]
    public void PrintsTheCanonicalForm(Endpoint endpoint, string canonical)
    {
        Assert.Equal(canonical, endpoint.ToString());
    }

    [Theory]
    [MemberData(nameof(CanonicalForms))]
    public void ParsesTheCanonicalFormBackToAnEqualEndpoint(Endpoint endpoint, string canonical)
    {
        var parsed = Endpoint.Parse(canonical);
        Assert.Equal(endpoint, parsed);
        Assert.Equal(endpoint.GetHashCode(), parsed.GetHashCode());
        Assert.Equal(canonical, parsed.ToString());
        Assert.Equal(endpoint.Protocol, parsed.Protocol);
        Assert.Equal(endpoint.Address, parsed.Address);
        Assert.Equal(endpoint.Routes, parsed.Routes);
        Assert.Equal(endpoint.RoutingId, parsed.RoutingId);
        Assert.Equal(endpoint.ServesMountTable, parsed.ServesMountTable);
        Assert.Equal(endpoint.BlessingNames, parsed.BlessingNames);
    }

    [Fact]
    public void ParsedFieldsAreUnescaped()
    {
        var endpoint = Endpoint.Parse("@6@unix@%40/tmp/%25s@a%2Cb,%2Cc@0000000000000000000000000000ba77@m@dev.v.io:foo@bar.com@@");
        Assert.Equal("unix", endpoint.Protocol);
        Assert.Equal("@/tmp/%s", endpoint.Address);
        Assert.Equal(["a,b", ",c"], endpoint.Routes);
        Assert.Equal(Rid, endpoint.RoutingId);
        Assert.True(endpoint.ServesMountTable);
        Assert.Equal(["dev.v.io:foo@bar.com"], endpoint.BlessingNames);
    }

    [Fact]
    public void ToStringIsStable()
    {
        var endpoint = Endpoint.Create("tcp", "h:1", Rid, ["a"]);
        Assert.Same(endpoint.ToString(), endpoint.ToString());
    }
}

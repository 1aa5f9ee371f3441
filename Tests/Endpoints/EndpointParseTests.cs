using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Tests.Endpoints;

/// <summary>The lenient parts of parsing (what maps onto which canonical form) and every rejection.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EndpointParseTests
{
    private const string NullRid = "00000000000000000000000000000000";

    [Theory]
    // The trailing "@@" is optional.
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba77@s@", "@6@tcp@h:1@@0000000000000000000000000000ba77@s@@@")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba77@s@a,b", "@6@tcp@h:1@@0000000000000000000000000000ba77@s@a,b@@")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba77@s@x@y", "@6@tcp@h:1@@0000000000000000000000000000ba77@s@x@y@@")]
    // So is the leading '@', as in Vanadium.
    [InlineData("6@tcp@h:1@@@m@@@", "@6@tcp@h:1@@" + NullRid + "@m@@@")]
    // An empty address means ":0"; an empty routing ID means the null ID.
    [InlineData("@6@tcp@@@@m@@@", "@6@tcp@:0@@" + NullRid + "@m@@@")]
    [InlineData("@6@@@@@@@@", "@6@@:0@@" + NullRid + "@m@@@")]
    // Flags: empty or m mean a mount table, s or l mean none.
    [InlineData("@6@tcp@h:1@@@@@@", "@6@tcp@h:1@@" + NullRid + "@m@@@")]
    [InlineData("@6@tcp@h:1@@@m@@@", "@6@tcp@h:1@@" + NullRid + "@m@@@")]
    [InlineData("@6@tcp@h:1@@@s@@@", "@6@tcp@h:1@@" + NullRid + "@s@@@")]
    [InlineData("@6@tcp@h:1@@@l@@@", "@6@tcp@h:1@@" + NullRid + "@s@@@")]
    // Escapes of either hex case; the canonical form escapes only what it must, in uppercase.
    [InlineData("@6@tcp@a%2fb%2Fc%40d%40@x%2cy,%2Cz%25@@s@@@", "@6@tcp@a/b/c%40d%40@x%2Cy,%2Cz%25@" + NullRid + "@s@@@")]
    [InlineData("@6@tcp@%C3%a9:1@@@s@@@", "@6@tcp@é:1@@" + NullRid + "@s@@@")]
    [InlineData("@6@tcp@%F0%9F%98%80:1@@@s@@@", "@6@tcp@😀:1@@" + NullRid + "@s@@@")]
    // Routing IDs in uppercase print in lowercase.
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000BA77@s@@@", "@6@tcp@h:1@@0000000000000000000000000000ba77@s@@@")]
    // The protocol is never unescaped.
    [InlineData("@6@t%40p@h:1@@@s@@@", "@6@t%40p@h:1@@" + NullRid + "@s@@@")]
    // Blessings are everything after the flag's '@', split on ','.
    [InlineData("@6@tcp@h:1@@@s@a,,b@@", "@6@tcp@h:1@@" + NullRid + "@s@a,,b@@")]
    [InlineData("@6@tcp@h:1@@@s@@@@@", "@6@tcp@h:1@@" + NullRid + "@s@@@@@")]
    public void ParsesToTheCanonicalForm(string input, string canonical)
    {
        var endpoint = Endpoint.Parse(input);
        Assert.Equal(canonical, endpoint.ToString());
        Assert.Equal(endpoint, Endpoint.Parse(canonical));
    }

    [Fact]
    public void EmptyFieldsParseToDefaults()
    {
        var endpoint = Endpoint.Parse("@6@@@@@@@@");
        Assert.Equal("", endpoint.Protocol);
        Assert.Equal(":0", endpoint.Address);
        Assert.Empty(endpoint.Routes);
        Assert.True(endpoint.RoutingId.IsNull);
        Assert.True(endpoint.ServesMountTable);
        Assert.Empty(endpoint.BlessingNames);
    }

    [Theory]
    [InlineData("@6@tcp@h:1@@@s@@@@", new[] { "@" })]
    [InlineData("@6@tcp@h:1@@@s@@@@@", new[] { "@@" })]
    [InlineData("@6@tcp@h:1@@@s@x@@@", new[] { "x@" })]
    [InlineData("@6@tcp@h:1@@@s@x@", new[] { "x@" })]
    [InlineData("@6@tcp@h:1@@@s@,", new[] { "", "" })]
    [InlineData("@6@tcp@h:1@@@s@a:b,c@d.e:f@@", new[] { "a:b", "c@d.e:f" })]
    public void BlessingsTakeTheRestUpToTheFinalSuffix(string input, string[] blessings)
    {
        Assert.Equal(blessings, Endpoint.Parse(input).BlessingNames);
    }

    [Theory]
    [InlineData("localhost:10", "@6@@localhost:10@@" + NullRid + "@m@@@")]
    [InlineData("localhost:", "@6@@localhost:@@" + NullRid + "@m@@@")]
    [InlineData(":0", "@6@@:0@@" + NullRid + "@m@@@")]
    [InlineData("10.0.0.1:80", "@6@@10.0.0.1:80@@" + NullRid + "@m@@@")]
    [InlineData("[::1]:80", "@6@@[::1]:80@@" + NullRid + "@m@@@")]
    [InlineData("[fe80::1%eth0]:80", "@6@@[fe80::1%25eth0]:80@@" + NullRid + "@m@@@")]
    [InlineData("localhost:10#", "@6@@localhost:10@@" + NullRid + "@s@@@")]
    [InlineData("[::1]:80#", "@6@@[::1]:80@@" + NullRid + "@s@@@")]
    [InlineData("(dev.v.io:service:mounttabled)@ns.example:8101", "@6@@ns.example:8101@@" + NullRid + "@m@dev.v.io:service:mounttabled@@")]
    [InlineData("(dev.v.io:users:foo@bar.com)@ns.example:8101", "@6@@ns.example:8101@@" + NullRid + "@m@dev.v.io:users:foo@bar.com@@")]
    [InlineData("(@1@tcp)@ns.example:8101", "@6@@ns.example:8101@@" + NullRid + "@m@@1@tcp@@")]
    [InlineData("(a)@(b)@h:1", "@6@@h:1@@" + NullRid + "@m@a)@(b@@")]
    [InlineData("(a,b)@h:1#", "@6@@h:1@@" + NullRid + "@s@a,b@@")]
    [InlineData("()@h:1", "@6@@h:1@@" + NullRid + "@m@@@")]
    public void ParsesTheShortHostPortForm(string input, string canonical)
    {
        var endpoint = Endpoint.Parse(input);
        Assert.Equal(canonical, endpoint.ToString());
        Assert.Equal("", endpoint.Protocol);
        Assert.True(endpoint.RoutingId.IsNull);
        Assert.Empty(endpoint.Routes);
        Assert.Equal(endpoint, Endpoint.Parse(canonical));
    }

    [Fact]
    public void ShortFormKeepsTheAddressVerbatimAndTheBlessingWhole()
    {
        var endpoint = Endpoint.Parse("(dev.v.io:users:foo@bar.com)@[fe80::1%eth0]:80#");
        Assert.Equal("[fe80::1%eth0]:80", endpoint.Address);
        Assert.False(endpoint.ServesMountTable);
        Assert.Equal(["dev.v.io:users:foo@bar.com"], endpoint.BlessingNames);
    }

    [Theory]
    [InlineData("localhost", "missing port")]
    [InlineData("#", "missing port")]
    [InlineData("::1:80", "too many colons")]
    [InlineData("a:b:80", "too many colons")]
    [InlineData("[::1]", "missing port")]
    [InlineData("[::1]x:80", "missing port")]
    [InlineData("[::1]:80:90", "too many colons")]
    [InlineData("[::1:80", "missing ']'")]
    [InlineData("a]:80", "unexpected ']'")]
    [InlineData("a[b:80", "unexpected '['")]
    [InlineData("[a]:[80", "unexpected '['")]
    [InlineData("[a]:80]", "unexpected ']'")]
    [InlineData("(blessing)@localhost", "missing port")]
    public void RejectsMalformedHostPort(string input, string problem)
    {
        AssertBadArg(input, "bad host:port", problem);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("@5@tcp@h:1@@@m@@@", "bad version")]
    [InlineData("@06@tcp@h:1@@@m@@@", "bad version")]
    [InlineData("@@tcp@h:1@@@m@@@", "bad version")]
    [InlineData("@v6@tcp@h:1@@@m@@@", "bad version")]
    [InlineData("@", "bad version")]
    [InlineData("@@", "bad version")]
    [InlineData("(blessing)@", "bad version")]
    [InlineData("a@b:1", "bad version")]
    [InlineData("(a\n)@h:1", "bad version")]
    [InlineData("@6", "missing field")]
    [InlineData("@6@@@@@@@", "missing field")]
    [InlineData("@6@tcp", "missing field")]
    [InlineData("@6@tcp@h:1", "missing field")]
    [InlineData("@6@tcp@h:1@@", "missing field")]
    [InlineData("@6@tcp@h:1@@@", "missing field")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba77", "missing field")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba77@m", "missing field")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba77@m@@", "missing field")]
    [InlineData("@6@tcp@h%4@@@m@@@", "bad escape in address")]
    [InlineData("@6@tcp@h%@@@m@@@", "bad escape in address")]
    [InlineData("@6@tcp@h%zz:1@@@m@@@", "bad escape in address")]
    [InlineData("@6@tcp@h%4g:1@@@m@@@", "bad escape in address")]
    [InlineData("@6@tcp@%FF:1@@@m@@@", "bad escape in address")]
    [InlineData("@6@tcp@%C3:1@@@m@@@", "bad escape in address")]
    [InlineData("@6@tcp@%ED%A0%80:1@@@m@@@", "bad escape in address")]
    [InlineData("@6@tcp@h:1@a,b%2@@m@@@", "bad escape in route")]
    [InlineData("@6@tcp@h:1@a,%x1@@m@@@", "bad escape in route")]
    [InlineData("@6@tcp@h:1@%80@@m@@@", "bad escape in route")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba7@m@@@", "bad routing id")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba777@m@@@", "bad routing id")]
    [InlineData("@6@tcp@h:1@@0000000000000000000000000000ba7g@m@@@", "bad routing id")]
    [InlineData("@6@tcp@h:1@@ba77@m@@@", "bad routing id")]
    [InlineData("@6@tcp@h:1@@0@m@@@", "bad routing id")]
    [InlineData("@6@tcp@h:1@@@x@@@", "bad mount table flag")]
    [InlineData("@6@tcp@h:1@@@mm@@@", "bad mount table flag")]
    [InlineData("@6@tcp@h:1@@@M@@@", "bad mount table flag")]
    [InlineData("@6@tcp@h:1@@@S@@@", "bad mount table flag")]
    [InlineData("@6@tcp@h:1@@@ m@@@", "bad mount table flag")]
    public void RejectsMalformedV6Strings(string input, string problem)
    {
        AssertBadArg(input, problem);
    }

    [Fact]
    public void ErrorMessagesQuoteABoundedExcerptOfTheInput()
    {
        var input = "@6@tcp@h:1@@@" + new string('x', 100_000) + "@@@";
        var error = AssertBadArg(input, "bad mount table flag");
        Assert.True(error.Message.Length < 1_000);
    }

    [Fact]
    public void ParseOfNullThrowsArgumentNullAndTryParseReturnsFalse()
    {
        Assert.Throws<ArgumentNullException>(() => Endpoint.Parse(null!));
        Assert.False(Endpoint.TryParse(null, out var endpoint));
        Assert.Null(endpoint);
    }

    [Fact]
    public void TryParseReportsSuccess()
    {
        Assert.True(Endpoint.TryParse("@6@tcp@h:1@@@s@@@", out var endpoint));
        Assert.Equal("h:1", endpoint.Address);
    }

    private static FlowException AssertBadArg(string input, params string[] messageParts)
    {
        Assert.False(Endpoint.TryParse(input, out var endpoint));
        Assert.Null(endpoint);
        var error = Assert.Throws<FlowException>(() => Endpoint.Parse(input));
        Assert.Equal(FlowErrorCode.BadArg, error.Code);
        foreach (var part in messageParts)
        {
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }

        return error;
    }
}

using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Tests.Endpoints;

/// <summary>Building endpoints: validation, copy helpers, equality and addressless endpoints.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EndpointCreateTests
{
    private static readonly RoutingId Rid = new(7, 42);

    private static Endpoint Sample() =>
        Endpoint.Create("tcp", "h:1", Rid, ["root:alice", "root:bob"], ["r1", "r2"], servesMountTable: true);

    [Fact]
    public void CreateKeepsEveryField()
    {
        var endpoint = Sample();
        Assert.Equal("tcp", endpoint.Protocol);
        Assert.Equal("h:1", endpoint.Address);
        Assert.Equal(Rid, endpoint.RoutingId);
        Assert.Equal(["root:alice", "root:bob"], endpoint.BlessingNames);
        Assert.Equal(["r1", "r2"], endpoint.Routes);
        Assert.True(endpoint.ServesMountTable);
    }

    [Fact]
    public void CreateDefaultsToNullIdNoListsAndNoMountTable()
    {
        var endpoint = Endpoint.Create("tcp", "h:1");
        Assert.True(endpoint.RoutingId.IsNull);
        Assert.Empty(endpoint.BlessingNames);
        Assert.Empty(endpoint.Routes);
        Assert.False(endpoint.ServesMountTable);
    }

    [Fact]
    public void EmptyAddressMeansAnyPortOnAllInterfaces()
    {
        Assert.Equal(":0", Endpoint.Create("tcp", "").Address);
        Assert.Equal(":0", Sample().WithAddress("").Address);
    }

    [Fact]
    public void CreateCopiesTheCallersLists()
    {
        var blessings = new List<string> { "a" };
        var routes = new List<string> { "r" };
        var endpoint = Endpoint.Create("tcp", "h:1", blessingNames: blessings, routes: routes);
        blessings.Add("b");
        routes[0] = "changed";
        Assert.Equal(["a"], endpoint.BlessingNames);
        Assert.Equal(["r"], endpoint.Routes);
    }

    [Fact]
    public void ListsCannotBeChangedThroughTheProperties()
    {
        var endpoint = Sample();
        var routes = Assert.IsAssignableFrom<IList<string>>(endpoint.Routes);
        Assert.True(routes.IsReadOnly);
        Assert.Throws<NotSupportedException>(() => routes[0] = "x");
        var blessings = Assert.IsAssignableFrom<IList<string>>(endpoint.BlessingNames);
        Assert.Throws<NotSupportedException>(() => blessings.Add("x"));
        Assert.Equal("r1", endpoint.Routes[0]);
    }

    [Fact]
    public void ProtocolWithSeparatorIsRejected()
    {
        AssertBadArg(() => Endpoint.Create("t@p", "h:1"), "protocol");
        AssertBadArg(() => Sample().WithProtocol("@"), "protocol");
    }

    [Fact]
    public void BlessingNameWithCommaIsRejected()
    {
        AssertBadArg(() => Endpoint.Create("tcp", "h:1", blessingNames: ["a,b"]), "blessing name");
        AssertBadArg(() => Sample().WithBlessingNames(["ok", ","]), "blessing name");
    }

    [Fact]
    public void LoneEmptyListElementIsRejectedBecauseItPrintsAsAnEmptyList()
    {
        AssertBadArg(() => Endpoint.Create("tcp", "h:1", blessingNames: [""]), "blessing names");
        AssertBadArg(() => Endpoint.Create("tcp", "h:1", routes: [""]), "routes");
        AssertBadArg(() => Sample().WithRoutes([""]), "routes");

        // Empty elements among others print unambiguously.
        Assert.Equal(["", ""], Endpoint.Create("tcp", "h:1", routes: ["", ""]).Routes);
        Assert.Equal(["a", ""], Endpoint.Create("tcp", "h:1", blessingNames: ["a", ""]).BlessingNames);
    }

    [Fact]
    public void NullListElementsAreRejected()
    {
        AssertBadArg(() => Endpoint.Create("tcp", "h:1", blessingNames: ["a", null!]), "blessing names");
        AssertBadArg(() => Endpoint.Create("tcp", "h:1", routes: [null!]), "routes");
    }

    [Fact]
    public void NullArgumentsThrowArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => Endpoint.Create(null!, "h:1"));
        Assert.Throws<ArgumentNullException>(() => Endpoint.Create("tcp", null!));
        Assert.Throws<ArgumentNullException>(() => Sample().WithBlessingNames(null!));
        Assert.Throws<ArgumentNullException>(() => Sample().WithRoutes(null!));
    }

    [Fact]
    public void WithHelpersChangeOneFieldAndLeaveTheOriginalAlone()
    {
        var original = Sample();
        var before = original.ToString();
        var other = new RoutingId(1, 2);

        Assert.Equal(
            Endpoint.Create("tcp", "h:1", other, ["root:alice", "root:bob"], ["r1", "r2"], servesMountTable: true),
            original.WithRoutingId(other));
        Assert.Equal(
            Endpoint.Create("tcp", "g:2", Rid, ["root:alice", "root:bob"], ["r1", "r2"], servesMountTable: true),
            original.WithAddress("g:2"));
        Assert.Equal(
            Endpoint.Create("ws", "h:1", Rid, ["root:alice", "root:bob"], ["r1", "r2"], servesMountTable: true),
            original.WithProtocol("ws"));
        Assert.Equal(
            Endpoint.Create("tcp", "h:1", Rid, ["root:carol"], ["r1", "r2"], servesMountTable: true),
            original.WithBlessingNames(["root:carol"]));
        Assert.Equal(
            Endpoint.Create("tcp", "h:1", Rid, ["root:alice", "root:bob"], [], servesMountTable: true),
            original.WithRoutes([]));
        Assert.Equal(
            Endpoint.Create("tcp", "h:1", Rid, ["root:alice", "root:bob"], ["r1", "r2"], servesMountTable: false),
            original.WithServesMountTable(false));

        Assert.Equal(before, original.ToString());
        Assert.Equal(Sample(), original);
    }

    [Fact]
    public void EqualityIsByValue()
    {
        var a = Sample();
        var b = Sample();
        Assert.NotSame(a, b);
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());

        Assert.NotEqual(a, a.WithProtocol("ws"));
        Assert.NotEqual(a, a.WithAddress("h:2"));
        Assert.NotEqual(a, a.WithRoutingId(new RoutingId(7, 43)));
        Assert.NotEqual(a, a.WithServesMountTable(false));
        Assert.NotEqual(a, a.WithRoutes(["r2", "r1"]));
        Assert.NotEqual(a, a.WithRoutes(["r1"]));
        Assert.NotEqual(a, a.WithBlessingNames(["root:bob", "root:alice"]));
        Assert.NotEqual(a, a.WithBlessingNames([]));
        Assert.NotEqual(a, a.WithAddress("H:1"));
        Assert.False(a.Equals((Endpoint?)null));
        Assert.False(a.Equals(a.ToString()));
    }

    [Fact]
    public void EqualityOperatorsHandleNull()
    {
        Endpoint? none = null;
        Assert.True(none == null);
        Assert.False(Sample() == none);
        Assert.False(none == Sample());
        Assert.True(Sample() != none);
    }

    [Fact]
    public void ForRoutingIdIsAddressless()
    {
        var endpoint = Endpoint.ForRoutingId(Rid);
        Assert.True(endpoint.IsAddressless);
        Assert.Equal("", endpoint.Protocol);
        Assert.Equal(":0", endpoint.Address);
        Assert.Equal(Rid, endpoint.RoutingId);
        Assert.Empty(endpoint.Routes);
        Assert.Empty(endpoint.BlessingNames);
        Assert.False(endpoint.ServesMountTable);

        var parsed = Endpoint.Parse(endpoint.ToString());
        Assert.True(parsed.IsAddressless);
        Assert.Equal(endpoint, parsed);
    }

    [Fact]
    public void AnEndpointWithAProtocolOrAnAddressIsNotAddressless()
    {
        Assert.False(Endpoint.Create("tcp", "").IsAddressless);
        Assert.False(Endpoint.Create("", "h:1").IsAddressless);
        Assert.False(Sample().IsAddressless);
        Assert.True(Endpoint.Create("", "", Rid).IsAddressless);
        Assert.True(Endpoint.Parse("@6@@@@0000000000000000000000000000002a@s@@@").IsAddressless);
    }

    [Fact]
    public void ForTheNullRoutingIdIsBadArg()
    {
        AssertBadArg(() => Endpoint.ForRoutingId(RoutingId.Null), "routing id");
    }

    private static void AssertBadArg(Func<Endpoint> action, string messagePart)
    {
        var error = Assert.Throws<FlowException>(() => action());
        Assert.Equal(FlowErrorCode.BadArg, error.Code);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
    }
}

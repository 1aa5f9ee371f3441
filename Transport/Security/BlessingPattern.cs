namespace FlowOrleans.Transport.Security;

/// <summary>
/// A pattern over blessing names: <c>...</c> (every name, and no name at all), or a name <c>p</c>
/// (matches <c>p</c> and every extension <c>p:x</c>), or <c>p:$</c> (matches exactly <c>p</c>).
/// Any other string, including the empty one and <c>...</c> inside a longer pattern, is invalid and
/// matches nothing. <c>default</c> is the empty (invalid) pattern.
/// </summary>
public readonly struct BlessingPattern : IEquatable<BlessingPattern>
{
    private const string ExactSuffix = ":$";

    private readonly string? _value;
    private readonly bool _isValid;

    public BlessingPattern(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
        _isValid = IsValidPattern(value);
    }

    /// <summary>The pattern every name matches.</summary>
    public static BlessingPattern All { get; } = new(BlessingNames.AllPrincipals);

    public string Value => _value ?? string.Empty;

    public bool IsValid => _isValid;

    /// <summary>Returns the pattern, or throws <see cref="FlowErrorCode.BadArg"/> if it is invalid.</summary>
    public static BlessingPattern Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var pattern = new BlessingPattern(value);
        if (!pattern.IsValid)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"\"{value}\" is not a valid blessing pattern.");
        }

        return pattern;
    }

    public static bool TryParse(string? value, out BlessingPattern pattern)
    {
        pattern = value is null ? default : new BlessingPattern(value);
        return pattern.IsValid;
    }

    public bool Matches(string blessingName)
    {
        ArgumentNullException.ThrowIfNull(blessingName);
        if (!_isValid)
        {
            return false;
        }

        var value = Value;
        if (value == BlessingNames.AllPrincipals)
        {
            return true;
        }

        var exact = IsExact(value);
        var prefix = exact ? value.AsSpan(0, value.Length - ExactSuffix.Length) : value.AsSpan();
        if (blessingName.Length == prefix.Length)
        {
            return blessingName.AsSpan().SequenceEqual(prefix);
        }

        // "p" also matches "p:x" for a non-empty x, but never "p:" or "px".
        return !exact &&
            blessingName.Length > prefix.Length + 1 &&
            blessingName[prefix.Length] == BlessingNames.ChainSeparator &&
            blessingName.AsSpan(0, prefix.Length).SequenceEqual(prefix);
    }

    /// <summary>True if any name matches; <c>...</c> also matches an empty set of names.</summary>
    public bool MatchesAny(IEnumerable<string> blessingNames)
    {
        ArgumentNullException.ThrowIfNull(blessingNames);
        if (!_isValid)
        {
            return false;
        }

        if (Value == BlessingNames.AllPrincipals)
        {
            return true;
        }

        foreach (var name in blessingNames)
        {
            if (Matches(name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The pattern <c>p:$</c>, matched by exactly the name <c>p</c>.</summary>
    public BlessingPattern MakeNonExtendable()
    {
        if (!_isValid || Value == BlessingNames.AllPrincipals || IsExact(Value))
        {
            return this;
        }

        return new BlessingPattern(Value + ExactSuffix);
    }

    private static bool IsExact(string value) => value.EndsWith(ExactSuffix, StringComparison.Ordinal);

    private static bool IsValidPattern(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        if (value == BlessingNames.AllPrincipals)
        {
            return true;
        }

        var prefix = IsExact(value) ? value.AsSpan(0, value.Length - ExactSuffix.Length) : value.AsSpan();
        if (prefix.IsEmpty)
        {
            return false;
        }

        // Checking each ':'-separated piece as an extension rejects "::", a leading or trailing ':',
        // "$" anywhere but as the final ":$", and "..." inside a longer pattern.
        foreach (var range in prefix.Split(BlessingNames.ChainSeparator))
        {
            if (!BlessingNames.IsValidExtension(prefix[range]))
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(BlessingPattern other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is BlessingPattern other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;

    public static bool operator ==(BlessingPattern left, BlessingPattern right) => left.Equals(right);

    public static bool operator !=(BlessingPattern left, BlessingPattern right) => !left.Equals(right);
}
